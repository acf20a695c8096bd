/**
 * The control API as a function of a Request (hono): testable with `app.request()` and no socket,
 * served on a socket or a port by server.ts. Order matters: auth first (nothing is parsed for a
 * caller without the token), then the id check, then the routes (which read bodies within the limit).
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { WORKER_ID_PATTERN } from '../config/schema.js';
import { dashboardMiddleware } from '../dashboard/routes.js';
import { observabilityRoutes } from '../observability/http/routes.js';
import { hsuError } from '../errors.js';
import { authMiddleware } from './auth.js';
import { EventHub } from './event-hub.js';
import { DEFAULT_MAX_BODY_BYTES } from './config.js';
import type { ControlHost } from './host.js';
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
  readonly app: Hono;
  readonly context: RouteContext;
}

export function newRouteContext(host: ControlHost, logger: Logger | undefined, maxBodyBytes: number): RouteContext {
  return { host, logger, streams: new Set(), startedAt: host.startedAt ?? Date.now(), background: new Set(), maxBodyBytes, hub: new EventHub(host.master, host.controlEvents) };
}

export function createApiApp(host: ControlHost, options: ApiAppOptions, shared?: RouteContext): ApiApp {
  const context: RouteContext = shared ?? newRouteContext(host, options.logger, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const app = new Hono();
  app.onError((error) => errorResponse(error, options.logger));
  app.notFound((c) => errorResponse(hsuError('API_ROUTE_NOT_FOUND', `no endpoint ${c.req.method} ${c.req.path} (see GET /openapi.json)`, { method: c.req.method, path: c.req.path })));
  // The dashboard's page and files carry no data: served before auth (a navigating browser sends no token).
  app.use('*', dashboardMiddleware());
  app.use(
    '*',
    authMiddleware({
      token: options.token,
      readsNeedToken: options.readsNeedToken ?? false,
      ...(options.allowedHosts === undefined ? {} : { allowedHosts: new Set(options.allowedHosts.map((h) => h.toLowerCase())) }),
    }),
  );
  const checkId = async (c: { req: { param: (name: string) => string | undefined } }, next: () => Promise<void>): Promise<Response | void> => {
    const id = c.req.param('id') ?? '';
    // Ids reach file names (log files): anything that is not a plain id never gets that far.
    if (!WORKER_ID_PATTERN.test(id)) return errorResponse(hsuError('WORKER_ID_INVALID', `${JSON.stringify(id)} is not a worker id (1-64 of A-Z, a-z, 0-9, _ and -)`, { worker_id: id }));
    await next();
  };
  app.use('/workers/:id', checkId);
  app.use('/workers/:id/*', checkId);
  let document: object | undefined;
  app.get('/openapi.json', (c) => c.json((document ??= openApiDocument())));
  app.route('/', readRoutes(context));
  app.route('/', streamRoutes(context));
  app.route('/', mutateRoutes(context));
  app.route('/', observabilityRoutes(context));
  return { app, context };
}
