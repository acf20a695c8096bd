/** What every route file shares: the host, the logger, the registry of open streams, small helpers. */
import type { Context } from 'hono';
import type { Logger } from 'pino';
import type * as z from 'zod';
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import { hsuError } from '../../errors.js';
import { parseJsonBody, validateBody } from '../json-body.js';
import type { EventHub } from '../event-hub.js';
import type { ControlHost } from '../host.js';

export interface RouteContext {
  readonly host: ControlHost;
  readonly logger: Logger | undefined;
  /** Teardowns of open SSE streams, ended when the server closes. */
  readonly streams: Set<() => void>;
  readonly startedAt: number;
  readonly maxBodyBytes: number;
  /** The one subscription per event type that every /events stream shares. */
  readonly hub: EventHub;
  /** Cleanups still running after a response ended (a log follower closing its file); close() awaits them. */
  readonly background: Set<Promise<unknown>>;
}

/** Runs `promise` to its end in the background, where close() can wait for it. */
export function track(ctx: RouteContext, promise: Promise<unknown>): void {
  const settled = promise.catch((error: unknown) => ctx.logger?.warn({ err: error }, 'control API: background cleanup failed'));
  ctx.background.add(settled);
  void settled.finally(() => ctx.background.delete(settled));
}

/** The worker id of a `/workers/:id...` route (already checked against the id pattern). */
export function workerId(c: Context): string {
  return c.req.param('id') ?? '';
}

export async function readBody<S extends z.ZodType>(ctx: RouteContext, c: Context, schema: S, what: string): Promise<z.output<S>> {
  return validateBody(schema, await readJson(ctx, c), what);
}

/** The parsed JSON body, read no further than the limit (a huge body is cut off, not buffered). */
export async function readJson(ctx: RouteContext, c: Context): Promise<unknown> {
  const max = ctx.maxBodyBytes;
  const tooLarge = (): Error => hsuError('API_BODY_TOO_LARGE', `request body is larger than ${max} bytes`, { max_bytes: max });
  if (Number(c.req.header('content-length') ?? 0) > max) throw tooLarge();
  const body = c.req.raw.body;
  if (body === null) return {};
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return parseJsonBody(Buffer.concat(chunks).toString('utf8'));
}

export function queryOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return validateBody(schema, c.req.query(), 'query parameters');
}

/** A worker's diagnostics without the transition history (the list view). */
export function summary(diagnostics: WorkerDiagnostics): Omit<WorkerDiagnostics, 'history'> {
  const { history: _history, ...rest } = diagnostics;
  return rest;
}
