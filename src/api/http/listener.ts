/**
 * Puts the control API on node:http: each request becomes an ApiRequest, the handler's Reply is
 * written back. A body the handler did not read to its end (refused before reading, or cut off at
 * the size limit) is not drained: the connection closes after the reply instead.
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
  if (!raw.complete) headers.connection = 'close';
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
