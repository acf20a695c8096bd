/**
 * One HTTP/1.1 request over the master's unix socket, for the short client commands (`hsu ls`).
 * node:http would do, but its first request costs a CLI ~10 ms more than a bare socket (its agent
 * computes a TLS server name through net.isIP, whose large IPv6 regex compiles on first use, and
 * it loads the HTTP parser); the reply of our own server is simple enough to read here:
 * `Connection: close`, a status line, headers, and a body sized by Content-Length or chunked.
 * Streams (SSE) and TCP/TLS endpoints still go through node:http.
 */

export interface RawReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export function unixRequest(socketPath: string, method: string, pathname: string, headers: Readonly<Record<string, string>>, payload: string | undefined): Promise<RawReply> {
  const { connect } = process.getBuiltinModule('node:net'); // not an ESM import: see connection.ts
  const lines = [`${method} ${pathname} HTTP/1.1`, 'host: localhost', 'connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (payload !== undefined && headers['content-length'] === undefined) lines.push(`content-length: ${Buffer.byteLength(payload)}`);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(socketPath);
    // write, not end: a half-closed request makes node's server drop the connection before an
    // async handler answers. The server closes it after the reply (`connection: close`).
    socket.once('connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n${payload ?? ''}`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('error', reject);
    socket.once('end', () => {
      try {
        resolve(parseReply(Buffer.concat(chunks)));
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Parses a complete HTTP/1.1 response (the server closed the connection after it). */
export function parseReply(raw: Buffer): RawReply {
  const split = raw.indexOf('\r\n\r\n');
  if (split < 0) throw new Error('incomplete HTTP response');
  const [statusLine = '', ...headerLines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) throw new Error(`not an HTTP response: ${JSON.stringify(statusLine.slice(0, 40))}`);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(split + 4);
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked') === true) body = dechunk(body);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  return { status, headers, body: body.toString('utf8') };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) throw new Error('truncated chunked body');
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isFinite(size)) throw new Error('malformed chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
