/** What every route file shares: the host, the logger, the registry of open streams, small helpers. */
import type { Logger } from 'pino';
import type * as z from 'zod';
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import { hsuError } from '../../errors.js';
import { parseJsonBody, validateBody } from '../json-body.js';
import type { EventHub } from '../event-hub.js';
import type { ControlHost } from '../host.js';
import type { ApiRequest } from '../http/request.js';

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
export function workerId(request: ApiRequest): string {
  return request.param('id') ?? '';
}

export async function readBody<S extends z.ZodType>(ctx: RouteContext, request: ApiRequest, schema: S, what: string): Promise<z.output<S>> {
  return validateBody(schema, await readJson(ctx, request), what);
}

/** The parsed JSON body, read no further than the limit (a huge body is cut off, not buffered). */
export async function readJson(ctx: RouteContext, request: ApiRequest): Promise<unknown> {
  const max = ctx.maxBodyBytes;
  const tooLarge = (): Error => hsuError('API_BODY_TOO_LARGE', `request body is larger than ${max} bytes`, { max_bytes: max });
  if (Number(request.header('content-length') ?? 0) > max) throw tooLarge();
  const raw = request.raw;
  if (raw.readableEnded) return {};
  // Listeners, not for-await: leaving a for-await early destroys the request, and its socket with
  // it, before the 413 could be sent.
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      raw.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength;
      if (size <= max) return void chunks.push(chunk);
      done();
      raw.pause();
      reject(tooLarge());
    };
    const onEnd = (): void => {
      done();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    const onClose = (): void => {
      done();
      reject(hsuError('API_BAD_REQUEST', 'the client went away before its request body ended', {}));
    };
    raw.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
  });
  return parseJsonBody(text);
}

export function queryOf<S extends z.ZodType>(request: ApiRequest, schema: S): z.output<S> {
  return validateBody(schema, request.query(), 'query parameters');
}

/** A worker's diagnostics without the transition history (the list view). */
export function summary(diagnostics: WorkerDiagnostics): Omit<WorkerDiagnostics, 'history'> {
  const { history: _history, ...rest } = diagnostics;
  return rest;
}
