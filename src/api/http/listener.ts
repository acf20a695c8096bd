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

export function requestListener(handle: Handle): RequestListener {
  return (raw, response) => {
    const request = new ApiRequest(raw);
    handle(request)
      .then((reply) => send(raw, response, reply))
      .catch((error: unknown) => response.destroy(error as Error)); // a defect in a handler or a stream: this response fails, never the master
  };
}

function send(raw: IncomingMessage, response: ServerResponse, reply: Reply): void {
  if (response.headersSent || response.destroyed) return;
  const headers: Record<string, string> = { ...reply.headers };
  if (!raw.complete) lingerAfter(raw, response);
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
 * Once the reply to a request whose body was not read to its end is written, the rest of the body
 * is read and dropped for at most {@link LINGER_MS}, then the connection is cut. Closing at once
 * would leave unread bytes in the socket, and the kernel answers those with a reset that can reach
 * the client before the 413 it was sent: nginx's lingering close, bounded by time as nginx bounds
 * it (node:http drops a never-read body below JavaScript, so there are no bytes to count). A
 * client that finishes its upload in time keeps its connection.
 */
function lingerAfter(raw: IncomingMessage, response: ServerResponse): void {
  response.once('finish', () => {
    if (raw.complete || raw.destroyed) return;
    const socket = raw.socket;
    const done = (): void => {
      clearTimeout(timer);
      raw.off('end', done);
      socket.off('close', done);
    };
    const timer = setTimeout(() => {
      done();
      socket.destroy();
    }, LINGER_MS);
    raw.once('end', done);
    socket.once('close', done);
    // A body read in part (cut off at the size limit) was paused there: flowing with no reader drops it.
    // One never read is dropped by node:http itself.
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
