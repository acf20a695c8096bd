/**
 * The control API as a node:http request listener, served on a socket or a port by server.ts.
 * Order matters: the dashboard's files (they carry no data), then auth (nothing is parsed for a
 * caller without the token), then the id check, then the routes (which read bodies within the limit).
 */
import type { Logger } from 'pino';
import { WORKER_ID_PATTERN } from '../config/schema.js';
import { dashboardMiddleware } from '../dashboard/routes.js';
import { observabilityRoutes } from '../observability/http/routes.js';
import { hsuError } from '../errors.js';
import { authMiddleware } from './auth.js';
import { EventHub } from './event-hub.js';
import { DEFAULT_MAX_BODY_BYTES } from './config.js';
import type { ControlHost } from './host.js';
import { requestListener, type Handle, type RequestListener } from './http/listener.js';
import { json, type Reply } from './http/reply.js';
import type { ApiRequest } from './http/request.js';
import { decodeSegment, Router, type Middleware } from './http/router.js';
import { openApiDocument } from './openapi.js';
import { errorResponse } from './respond.js';
import type { RouteContext } from './routes/context.js';
import { mutateRoutes } from './routes/mutate.js';
import { readRoutes } from './routes/read.js';
import { streamRoutes } from './routes/streams.js';

export interface ApiAppOptions {
  readonly token: string;
  /** Reads need the token too (a listener other machines can reach). Default false. */
  readonly readsNeedToken?: boolean;
  /** Accepted Host headers (host:port), for a TCP listener; undefined accepts any. */
  readonly allowedHosts?: readonly string[];
  readonly maxBodyBytes?: number;
  readonly logger?: Logger;
}

export interface ApiApp {
  /** For `http.createServer(listener)` (or `https`): the whole API. */
  readonly listener: RequestListener;
  /** Every route the API serves (`GET /workers/:id`...). */
  readonly routes: readonly { readonly method: string; readonly pattern: string }[];
  readonly context: RouteContext;
}

export function newRouteContext(host: ControlHost, logger: Logger | undefined, maxBodyBytes: number): RouteContext {
  return { host, logger, streams: new Set(), startedAt: host.startedAt ?? Date.now(), background: new Set(), maxBodyBytes, hub: new EventHub(host.master, host.controlEvents) };
}

/** Ids reach file names (log files): anything under /workers/ that is not a plain id never gets that far. */
const checkWorkerId: Middleware = (request) => {
  if (!request.path.startsWith('/workers/')) return undefined;
  const segment = request.path.split('/')[2] ?? '';
  if (segment === '') return undefined; // `/workers/` names no route: a 404 below
  const id = decodeSegment(segment);
  if (WORKER_ID_PATTERN.test(id)) return undefined;
  return errorResponse(hsuError('WORKER_ID_INVALID', `${JSON.stringify(id)} is not a worker id (1-64 of A-Z, a-z, 0-9, _ and -)`, { worker_id: id }));
};

export function createApiApp(host: ControlHost, options: ApiAppOptions, shared?: RouteContext): ApiApp {
  const context: RouteContext = shared ?? newRouteContext(host, options.logger, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const before: Middleware[] = [
    dashboardMiddleware(), // before auth: a navigating browser sends no token
    authMiddleware({
      token: options.token,
      readsNeedToken: options.readsNeedToken ?? false,
      ...(options.allowedHosts === undefined ? {} : { allowedHosts: new Set(options.allowedHosts.map((h) => h.toLowerCase())) }),
    }),
    checkWorkerId,
  ];
  const router = new Router();
  let document: object | undefined;
  router.get('/openapi.json', () => json((document ??= openApiDocument())));
  readRoutes(router, context);
  streamRoutes(router, context);
  mutateRoutes(router, context);
  observabilityRoutes(router, context);
  const notFound = (request: ApiRequest): Reply =>
    errorResponse(hsuError('API_ROUTE_NOT_FOUND', `no endpoint ${request.wireMethod} ${request.path} (see GET /openapi.json)`, { method: request.wireMethod, path: request.path }));
  const handle: Handle = async (request) => {
    try {
      for (const step of before) {
        const early = await step(request);
        if (early !== undefined) return early;
      }
      const match = router.match(request.method, request.path);
      return match === undefined ? notFound(request) : await match.handler(request.withParams(match.params));
    } catch (error) {
      return errorResponse(error, options.logger);
    }
  };
  return { listener: requestListener(handle), routes: router.list(), context };
}
