/**
 * The control API's observability endpoints: `GET /metrics` (Prometheus text, when metrics are
 * attached to the master) and `GET /usage` (SSE: a `usage` frame of CPU and memory every couple
 * of seconds, for the dashboard's charts and `hsu monit`).
 */
import type { Master } from '../../master/master.js';
import { hsuError } from '../../errors.js';
import type { Router } from '../../api/http/router.js';
import { sseReply } from '../../api/sse.js';
import { instrumentationOf } from '../instrument.js';
import { usageHubOf } from './usage-hub.js';

export interface ObservabilityRouteContext {
  readonly host: { readonly master: Master };
  /** Open SSE streams, ended when the API server closes. */
  readonly streams: Set<() => void>;
}

export function observabilityRoutes(app: Router, ctx: ObservabilityRouteContext): void {
  const { master } = ctx.host;

  app.get('/metrics', async () => {
    const metrics = instrumentationOf(master)?.metrics;
    if (metrics === undefined) throw hsuError('METRICS_DISABLED', 'this master keeps no metrics: set master.metrics.enabled (or call instrumentMaster(master))', {});
    // Written a chunk at a time: encoding (and writing) the 2.6 MiB of a 1,000-worker scrape in one piece is a block of its own.
    return { status: 200, headers: { 'content-type': metrics.contentType, 'cache-control': 'no-store' }, chunks: await metrics.renderChunks() };
  });

  app.get('/usage', () => sseReply((sse) => usageHubOf(master).watch((frame) => void sse.send('usage', frame)), { registry: ctx.streams }));
}
