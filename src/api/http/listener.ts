/**
 * Puts the control API on node:http: each request becomes an ApiRequest, the handler's Reply is
 * written back. A body the handler did not read to its end (refused before reading, or cut off at
 * the size limit) is read and dropped after the reply, within a bound (see {@link lingerAfter}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiRequest } from './request.js';
import type { Reply } from './reply.js';

/** Answers every request; it must not reject (errors are replies too). */
export type Handle = (request: ApiRequest) => Promise<Reply>;

export type RequestListener = (request: IncomingMessage, response: ServerResponse) => void;

export interface ListenerOptions {
  /** How long an unread request body is read after the reply; default {@link LINGER_MS}. */
  readonly lingerMs?: number;
}

export function requestListener(handle: Handle, options: ListenerOptions = {}): RequestListener {
  const lingerMs = options.lingerMs ?? LINGER_MS;
  return (raw, response) => {
    const request = new ApiRequest(raw);
    handle(request)
      .then((reply) => send(raw, response, reply, lingerMs))
      .catch((error: unknown) => response.destroy(error as Error)); // a defect in a handler or a stream: this response fails, never the master
  };
}

function send(raw: IncomingMessage, response: ServerResponse, reply: Reply, lingerMs: number): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  if (!raw.complete) lingerAfter(raw, response, headers, lingerMs);
  if ('stream' in reply) {
    response.writeHead(reply.status, headers);
    // HEAD of a stream: its headers, and nothing opened that only a reader would end.
    if (raw.method === 'HEAD') response.end();
    else reply.stream(response);
    return;
  }
  if ('chunks' in reply) {
    response.writeHead(reply.status, headers);
    writeChunks(response, reply.chunks);
    return;
  }
  const body = reply.body ?? '';
  headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  response.writeHead(reply.status, headers);
  response.end(body);
}

/** How long the rest of an unread request body is read and dropped before the connection is cut. */
export const LINGER_MS = 1_000;

/**
 * A reply to a request whose body was not read to its end (refused before reading, or cut off at
 * the size limit) closes the connection, but not at once: closing with unread bytes in the socket
 * makes the kernel answer them with a reset, which can reach the client before the 413 it was
 * sent. So, as nginx's lingering close does, the reply says `connection: close`, the socket is
 * half-closed after it (the client reads the reply, then end of stream), and the rest of the body
 * is read and dropped until it ends or {@link LINGER_MS} has passed, whichever is first; then the
 * socket is closed. A body that ends in time leaves nothing unread: no reset at all.
 */
function lingerAfter(raw: IncomingMessage, response: ServerResponse, headers: Record<string, string>, lingerMs: number): void {
  headers.connection = 'close';
  const socket = raw.socket;
  // node:http destroys a closing connection's socket once the reply is written (destroySoon):
  // half-close it instead, so what the client is still sending can be read.
  socket.destroySoon = () => void socket.end();
  response.once('finish', () => {
    if (socket.destroyed) return;
    const cut = (): void => {
      clearTimeout(timer);
      raw.off('end', cut);
      socket.destroy();
    };
    const timer = setTimeout(cut, lingerMs);
    socket.once('close', () => clearTimeout(timer));
    if (raw.complete) return cut();
    raw.once('end', cut);
    // A body read in part was paused at the limit: flowing with no reader drops it. One never read
    // is dropped by node:http itself (and still ends).
    raw.resume();
  });
}

/**
 * One chunk per turn of the event loop, and none while the socket is full: a 2.6 MiB scrape of a
 * 1,000-worker master is never encoded and written in one block (the loopback socket would take
 * it all at once), and never copied into one piece.
 */
function writeChunks(response: ServerResponse, chunks: readonly string[]): void {
  let next = 0;
  const write = (): void => {
    if (response.destroyed) return; // the client went away: nothing waits on the rest
    const chunk = chunks[next++];
    if (chunk === undefined) return void response.end();
    if (response.write(chunk)) setImmediate(write);
    else response.once('drain', write);
  };
  write();
}
