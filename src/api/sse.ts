/**
 * Server-Sent Events replies. Each stream owns what it subscribed to and gives it back exactly
 * once, however it ends: the client disconnects, the server closes, or the client reads too slowly
 * and the bytes queued for it pass the bound (a stalled reader must not grow the master's memory:
 * its connection is cut and it can reconnect).
 */
import type { ServerResponse } from 'node:http';
import type { Reply } from './http/reply.js';

/** Comment lines keep proxies and idle timeouts from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** Bytes queued for one client beyond which it is cut off. */
export const DEFAULT_SSE_QUEUE_BYTES = 4 * 1024 * 1024;

// connection: close, so a stream the server ends takes its connection with it (a closing server need not wait for it to idle).
const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'close' } as const;

export interface SseSender {
  /** Queues one event; returns false once the stream has ended. */
  send(event: string, data: unknown, id?: string | number): boolean;
  /** Queues a frame already encoded (shared by every stream of an event: see event-hub.ts). */
  sendFrame(frame: Uint8Array): boolean;
  /** Ends the stream from the server side (after a final event, say). */
  close(): void;
}

export interface SseOptions {
  readonly maxQueueBytes?: number;
  readonly heartbeatMs?: number;
  /** Every open stream, so a closing server can end them (they would hold its close() open). */
  readonly registry?: Set<() => void>;
}

/**
 * A streaming reply. `open` subscribes and returns its teardown; it runs once the response has
 * its headers, and the teardown runs once when the stream ends for any reason.
 */
export function sseReply(open: (sender: SseSender) => (() => void) | void, options: SseOptions = {}): Reply {
  return { status: 200, headers: SSE_HEADERS, stream: (response) => runStream(response, open, options) };
}

function runStream(response: ServerResponse, open: (sender: SseSender) => (() => void) | void, options: SseOptions): void {
  const maxQueue = options.maxQueueBytes ?? DEFAULT_SSE_QUEUE_BYTES;
  // Both are set once the stream is under way; end() can run before that (a first write past the bound).
  let teardown: (() => void) | void = undefined;
  let heartbeat: NodeJS.Timeout | undefined = undefined;
  let ended = false;
  const end = (how: 'end' | 'cut' | 'gone'): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    response.off('close', onGone);
    options.registry?.delete(onServerClose);
    try {
      teardown?.();
    } finally {
      if (how === 'end') response.end();
      else if (how === 'cut') response.destroy(); // what is queued for a stalled reader goes with it
    }
  };
  const onGone = (): void => end('gone');
  const onServerClose = (): void => end('end');
  const write = (chunk: string | Uint8Array): boolean => {
    if (ended) return false;
    response.write(chunk);
    if (response.writableLength > maxQueue) {
      end('cut');
      return false;
    }
    return true;
  };
  const sender: SseSender = {
    send: (event, data, id) => write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`),
    sendFrame: write,
    close: () => end('end'),
  };
  if (response.destroyed) return; // the client left before the stream began
  response.once('close', onGone);
  options.registry?.add(onServerClose);
  write(': stream open\n\n');
  heartbeat = setInterval(() => write(': keep-alive\n\n'), options.heartbeatMs ?? HEARTBEAT_MS);
  heartbeat.unref(); // the server keeps the process alive, never a stream on its own
  teardown = open(sender);
  if (ended) teardown?.(); // open() closed the stream itself
}
