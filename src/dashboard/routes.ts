/**
 * Serves the dashboard from the control API: the page at `/` for a browser (JSON stays the answer
 * for everything else) and its files under `/dashboard/`. Mounted before auth: the files hold no
 * data and a browser cannot send a token when it navigates; every request the page makes is an
 * API request like any other, with the token.
 */
import type { MiddlewareHandler } from 'hono';
import { DASHBOARD_HEADERS, assetForPath, dashboardAsset } from './assets.js';

export function dashboardMiddleware(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') return next();
    const name = assetForPath(c.req.path, c.req.header('accept'));
    if (name === undefined) return next();
    const asset = dashboardAsset(name);
    const headers = { ...DASHBOARD_HEADERS, 'content-type': asset.contentType, vary: 'Accept' };
    return c.req.method === 'HEAD' ? c.body(null, 200, headers) : c.body(new Uint8Array(asset.body), 200, headers);
  };
}
