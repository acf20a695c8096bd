/**
 * Serves the dashboard from the control API: the page at `/` for a browser (JSON stays the answer
 * for everything else) and its files under `/dashboard/`. Mounted before auth: the files hold no
 * data and a browser cannot send a token when it navigates; every request the page makes is an
 * API request like any other, with the token.
 */
import type { Middleware } from '../api/http/router.js';
import { DASHBOARD_HEADERS, assetForPath, dashboardAsset } from './assets.js';

export function dashboardMiddleware(): Middleware {
  return (request) => {
    if (request.method !== 'GET') return undefined; // HEAD too: node:http sends its headers without the body
    const name = assetForPath(request.path, request.header('accept'));
    if (name === undefined) return undefined;
    const asset = dashboardAsset(name);
    return { status: 200, headers: { ...DASHBOARD_HEADERS, 'content-type': asset.contentType, vary: 'Accept' }, body: asset.body };
  };
}
