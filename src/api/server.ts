/**
 * Serves the control API: on a unix socket in the state directory (mode 0600, created under a
 * umask so it is never briefly open to others) and/or on a TCP address (TLS when configured).
 * Writes `<state_dir>/api.json` so clients find it, and close() gives back everything: open
 * streams are ended, connections closed, the socket file and api.json removed.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { lstat, unlink, writeFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { hsuError } from '../errors.js';
import { createApiApp, newRouteContext } from './app.js';
import type { RequestListener } from './http/listener.js';
import { isLoopbackHost, type ResolvedApiSettings } from './config.js';
import type { ControlHost } from './host.js';
import type { RouteContext } from './routes/context.js';
import { obtainToken, type ApiToken } from './token.js';

export const ENDPOINT_FILE_NAME = 'api.json';

type Server = HttpServer | HttpsServer;

// Through getBuiltinModule, not ESM imports: an ESM import of node:http builds its whole namespace,
// whose WebSocket getter loads undici (about 13 MB of RSS in a master that never uses it), and
// node:https (TLS, another 5 MB) loads only for a TLS listener.
function createHttpServer(listener: RequestListener): HttpServer {
  return process.getBuiltinModule('node:http').createServer(listener);
}

function createHttpsServer(tls: { cert: Buffer; key: Buffer }, listener: RequestListener): HttpsServer {
  return process.getBuiltinModule('node:https').createServer(tls, listener);
}

/** What `<state_dir>/api.json` says: how a client on this machine reaches the API. */
export interface EndpointRecord {
  readonly pid: number;
  readonly socket: string | null;
  readonly url: string | null;
  /** For a TLS listener: the certificate a local client trusts (it may be self-signed). */
  readonly ca_file: string | null;
  /** Where the token is; null when only HSU_TOKEN has it. */
  readonly token_file: string | null;
}

export interface ApiServerOptions {
  readonly host: ControlHost;
  readonly settings: ResolvedApiSettings;
  readonly logger?: Logger;
}

export class ApiServer {
  private closing: Promise<void> | undefined;

  private constructor(
    readonly token: ApiToken,
    readonly endpoint: EndpointRecord,
    private readonly servers: readonly Server[],
    private readonly context: RouteContext,
    private readonly endpointFile: string | undefined,
    private readonly logger: Logger | undefined,
  ) {}

  static async start(options: ApiServerOptions): Promise<ApiServer> {
    const { host, settings, logger } = options;
    mkdirSync(settings.stateDir, { recursive: true });
    const token = obtainToken(settings);
    const context = newRouteContext(host, logger, settings.maxBodyBytes);
    const servers: Server[] = [];
    let socket: string | null = null;
    let url: string | null = null;
    try {
      if (settings.socketPath !== undefined) {
        const { listener } = createApiApp(host, { token: token.value, maxBodyBytes: settings.maxBodyBytes, ...(logger ? { logger } : {}) }, context);
        const server = createHttpServer(listener);
        servers.push(server);
        await listenSocket(server, settings.socketPath);
        socket = settings.socketPath;
      }
      if (settings.tcp !== undefined) {
        const loopback = isLoopbackHost(settings.tcp.host);
        // Bound once the port is known (the Host check needs it); nothing is accepted before that.
        let bound: RequestListener = (_request, response) => response.writeHead(503).end();
        const listener: RequestListener = (request, response) => bound(request, response);
        const server = settings.tls === undefined ? createHttpServer(listener) : createHttpsServer(readTls(settings.tls), listener);
        servers.push(server);
        const port = await listenTcp(server, settings.tcp.host, settings.tcp.port);
        const hostPart = settings.tcp.host.includes(':') ? `[${settings.tcp.host}]` : settings.tcp.host;
        url = `${settings.tls === undefined ? 'http' : 'https'}://${hostPart}:${port}`;
        const allowedHosts = loopback ? [`${hostPart}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`] : undefined;
        bound = createApiApp(
          host,
          { token: token.value, readsNeedToken: !loopback, maxBodyBytes: settings.maxBodyBytes, ...(allowedHosts ? { allowedHosts } : {}), ...(logger ? { logger } : {}) },
          context,
        ).listener;
      }
    } catch (error) {
      await Promise.all(servers.map(closeServer));
      if (socket !== null) await unlinkQuietly(socket);
      throw error;
    }
    const endpoint: EndpointRecord = { pid: process.pid, socket, url, ca_file: url?.startsWith('https:') === true ? (settings.tls?.cert ?? null) : null, token_file: token.file ?? null };
    const endpointFile = path.join(settings.stateDir, ENDPOINT_FILE_NAME);
    await writeFile(endpointFile, `${JSON.stringify(endpoint)}\n`, { mode: 0o600 });
    // Where it listens and where the token came from; never the token.
    logger?.info({ socket, url, token_source: token.source, token_file: token.file }, 'control API listening');
    return new ApiServer(token, endpoint, servers, context, endpointFile, logger);
  }

  /** Ends every stream and connection; resolves when nothing of the API is left. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.endpointFile !== undefined) await unlinkQuietly(this.endpointFile);
    for (const end of [...this.context.streams]) end();
    await Promise.all(this.servers.map(closeServer));
    await Promise.all([...this.context.background]);
    if (this.endpoint.socket !== null) await unlinkQuietly(this.endpoint.socket);
    this.logger?.debug('control API closed');
  }
}

async function listenSocket(server: Server, socketPath: string): Promise<void> {
  await removeStaleSocket(socketPath);
  // The socket file is created by bind(), synchronously inside listen(): under this umask it is
  // born 0600, with no window in which another user could connect.
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw hsuError('API_LISTEN_FAILED', `control API cannot listen on ${socketPath}: ${(error as Error).message}`, { socket: socketPath }, error);
  } finally {
    process.umask(previous);
  }
}

async function listenTcp(server: Server, host: string, port: number): Promise<number> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const hint = code === 'EADDRINUSE' ? ' (another program listens there: pick another port in master.api.listen)' : '';
    throw hsuError('API_LISTEN_FAILED', `control API cannot listen on ${host}:${port}: ${(error as Error).message}${hint}`, { host, port, errno: code }, error);
  }
  return (server.address() as AddressInfo).port;
}

/** A socket file nobody answers on is left by a master that died; one that answers is in use. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const existing = await lstat(socketPath).catch(() => undefined);
  if (existing === undefined) return;
  if (!existing.isSocket()) throw hsuError('API_LISTEN_FAILED', `control API cannot listen on ${socketPath}: a file that is not a socket is in the way`, { socket: socketPath });
  const answering = await new Promise<boolean>((resolve) => {
    const probe = connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (answering) throw hsuError('API_LISTEN_FAILED', `control API cannot listen on ${socketPath}: another process is serving it`, { socket: socketPath });
  await unlinkQuietly(socketPath);
}

function readTls(tls: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
  } catch (error) {
    throw hsuError('API_CONFIG_INVALID', `master.api.tls: ${(error as Error).message}`, { cert: tls.cert, key: tls.key }, error);
  }
}

/** Responses in flight (streams just ended) get this long to finish before their connections are cut. */
const CLOSE_GRACE_MS = 1_000;

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}

async function unlinkQuietly(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch {
    // already gone
  }
}
