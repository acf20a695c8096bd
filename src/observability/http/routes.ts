/**
 * The control API's observability endpoints: `GET /metrics` (Prometheus text, when metrics are
 * attached to the master) and `GET /usage` (SSE: a `usage` frame of CPU and memory every couple
 * of seconds, for the dashboard's charts and `hsu monit`).
 */
import { Hono } from 'hono';
import type { Master } from '../../master/master.js';
import { hsuError } from '../../errors.js';
import { sseResponse } from '../../api/sse.js';
import { instrumentationOf } from '../instrument.js';
import { usageHubOf } from './usage-hub.js';

export interface ObservabilityRouteContext {
  readonly host: { readonly master: Master };
  /** Open SSE streams, ended when the API server closes. */
  readonly streams: Set<() => void>;
}

export function observabilityRoutes(ctx: ObservabilityRouteContext): Hono {
  const app = new Hono();
  const { master } = ctx.host;

  app.get('/metrics', async (c) => {
    const metrics = instrumentationOf(master)?.metrics;
    if (metrics === undefined) throw hsuError('METRICS_DISABLED', 'this master keeps no metrics: set master.metrics.enabled (or call instrumentMaster(master))', {});
    const chunks = await metrics.renderChunks();
    // One chunk per pull: encoding (and writing) the 2.6 MiB of a 1,000-worker scrape in one piece is a block of its own.
    let next = 0;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => {
        const chunk = chunks[next++];
        if (chunk === undefined) controller.close();
        else controller.enqueue(encoder.encode(chunk));
      },
    });
    return c.body(body, 200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
  });

  app.get('/usage', (c) => sseResponse((sse) => usageHubOf(master).watch((frame) => void sse.send('usage', frame)), { signal: c.req.raw.signal, registry: ctx.streams }));

  return app;
}
