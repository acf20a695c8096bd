/**
 * `hsu dashboard`: the page for a master whose API listens on its unix socket only. A loopback
 * port serves the page and forwards every other request to the socket, as is (streams too). The
 * socket is the owner's alone (mode 0600) while a loopback port is open to every local user, so
 * the port asks for more than the socket does: the token on every API request, reads included,
 * and a Host header naming the port itself (a page rebinding its name to 127.0.0.1 gets nothing).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { bearerToken, tokenMatches } from '../api/token.js';
import type { Endpoint } from '../cli/client/connection.js';
import { DASHBOARD_HEADERS, assetForPath, dashboardAsset } from './assets.js';

export interface DashboardProxy {
  readonly url: string;
  readonly port: number;
  /** Closes the port and every connection through it (streams included). */
  close(): Promise<void>;
}

export async function startDashboardProxy(endpoint: Endpoint, token: string, port = 0, host = '127.0.0.1'): Promise<DashboardProxy> {
  const sockets = new Set<Socket>();
  let allowed = new Set<string>();
  const server: Server = process.getBuiltinModule('node:http').createServer((req, res) => handle(endpoint, token, allowed, req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  allowed = new Set([`${host}:${bound}`, `localhost:${bound}`]);
  return {
    url: `http://${host}:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function handle(endpoint: Endpoint, token: string, allowed: ReadonlySet<string>, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://proxy');
  if (!allowed.has((req.headers.host ?? '').toLowerCase())) return refuse(res, 400, 'HSU_ERR_API_BAD_REQUEST', `Host ${JSON.stringify(req.headers.host ?? '')} is not this dashboard's address`);
  const asset = req.method === 'GET' || req.method === 'HEAD' ? assetForPath(url.pathname, req.headers.accept) : undefined;
  if (asset !== undefined) {
    const { body, contentType } = dashboardAsset(asset);
    res.writeHead(200, { ...DASHBOARD_HEADERS, 'content-type': contentType, 'content-length': body.length, vary: 'Accept' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return;
  }
  if (!tokenMatches(token, bearerToken(req.headers.authorization))) {
    return refuse(res, 401, 'HSU_ERR_API_UNAUTHORIZED', 'every request through hsu dashboard needs the API token: Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="hsu"' });
  }
  forward(endpoint, req, res);
}

function forward(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse): void {
  const headers = { ...req.headers };
  delete headers.host;
  delete headers.connection;
  let upstream;
  if (endpoint.socket !== null) {
    upstream = process.getBuiltinModule('node:http').request({ socketPath: endpoint.socket, method: req.method, path: req.url, headers: { ...headers, host: 'localhost' } });
  } else {
    const target = new URL(endpoint.url ?? 'http://127.0.0.1');
    const options = { host: target.hostname.replace(/^\[|\]$/g, ''), port: target.port, method: req.method, path: req.url, headers: { ...headers, host: target.host } };
    upstream = target.protocol === 'https:' ? process.getBuiltinModule('node:https').request({ ...options, ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }) }) : process.getBuiltinModule('node:http').request(options);
  }
  upstream.once('response', (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.once('error', (error) => {
    if (!res.headersSent) refuse(res, 502, 'HSU_ERR_CLIENT_NO_MASTER', `the master does not answer: ${error.message}`);
    else res.destroy();
  });
  // The page went away (a stream it closed): the request to the master ends too.
  res.once('close', () => upstream.destroy());
  req.pipe(upstream);
}

function refuse(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ code, message, details: {} });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}
