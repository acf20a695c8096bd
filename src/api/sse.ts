/**
 * Server-Sent Events responses. Each stream owns what it subscribed to and gives it back exactly
 * once, however it ends: the client disconnects (the body is cancelled or the request aborted),
 * the server closes, or the client reads too slowly and its queue passes the bound (a stalled
 * reader must not grow the master's memory; it is cut off and can reconnect).
 */
const encoder = new TextEncoder();
/** Comment lines keep proxies and idle timeouts from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** Bytes queued for one client beyond which it is cut off. */
export const DEFAULT_SSE_QUEUE_BYTES = 4 * 1024 * 1024;

export interface SseSender {
  /** Queues one event; returns false once the stream has ended. */
  send(event: string, data: unknown, id?: string | number): boolean;
  /** Queues a frame already encoded (shared by every stream of an event: see event-hub.ts). */
  sendFrame(frame: Uint8Array): boolean;
  /** Ends the stream from the server side (after a final event, say). */
  close(): void;
}

export interface SseOptions {
  readonly signal?: AbortSignal;
  readonly maxQueueBytes?: number;
  readonly heartbeatMs?: number;
  /** Every open stream, so a closing server can end them (they would hold its close() open). */
  readonly registry?: Set<() => void>;
}

/**
 * A streaming response. `open` subscribes and returns its teardown; it runs once the stream
 * starts, and the teardown runs once when the stream ends for any reason.
 */
export function sseResponse(open: (sender: SseSender) => (() => void) | void, options: SseOptions = {}): Response {
  const maxQueue = options.maxQueueBytes ?? DEFAULT_SSE_QUEUE_BYTES;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let teardown: (() => void) | void;
  let heartbeat: NodeJS.Timeout | undefined;
  let ended = false;
  const end = (closeStream: boolean): void => {
    if (ended) return;
    ended = true;
    clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onAbort);
    options.registry?.delete(onServerClose);
    try {
      teardown?.();
    } finally {
      if (closeStream) {
        try {
          controller?.close();
        } catch {
          // already closed or errored
        }
      }
    }
  };
  const onAbort = (): void => end(true);
  const onServerClose = (): void => end(true);
  const enqueue = (text: string): boolean => enqueueBytes(encoder.encode(text));
  const enqueueBytes = (bytes: Uint8Array): boolean => {
    if (ended || controller === undefined) return false;
    controller.enqueue(bytes);
    if ((controller.desiredSize ?? 0) < -maxQueue) {
      end(true);
      return false;
    }
    return true;
  };
  const sender: SseSender = {
    send: (event, data, id) => enqueue(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`),
    sendFrame: enqueueBytes,
    close: () => end(true),
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        if (options.signal?.aborted === true) {
          ended = true;
          c.close();
          return;
        }
        options.signal?.addEventListener('abort', onAbort, { once: true });
        options.registry?.add(onServerClose);
        enqueue(': stream open\n\n');
        heartbeat = setInterval(() => enqueue(': keep-alive\n\n'), options.heartbeatMs ?? HEARTBEAT_MS);
        heartbeat.unref(); // the server keeps the process alive, never a stream on its own
        teardown = open(sender);
        if (ended) teardown?.(); // open() closed the stream itself
      },
      cancel() {
        end(false);
      },
    },
    // desiredSize goes negative as bytes queue up; the bound is checked against it.
    { highWaterMark: 0, size: (chunk) => chunk.byteLength },
  );
  return new Response(body, {
    // connection: close, so a stream the server ends takes its connection with it (a closing server need not wait for it to idle).
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no', connection: 'close' },
  });
}
