/**
 * The dashboard's files, shipped prebuilt with the package (`npm run build` copies
 * src/dashboard/assets into dist): plain HTML, JavaScript and CSS, no build step for the user.
 * Only these names are served, read once and kept in memory.
 */
import { readFileSync } from 'node:fs';
import { hsuError } from '../errors.js';

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
} as const;

export type AssetName = keyof typeof TYPES;

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

const cache = new Map<AssetName, Asset>();

/** The page may run its own script and talk to its own origin, nothing else; it cannot be framed. */
export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

export function isAssetName(name: string): name is AssetName {
  return Object.hasOwn(TYPES, name);
}

export function dashboardAsset(name: AssetName): Asset {
  let asset = cache.get(name);
  if (asset === undefined) {
    const url = new URL(`./assets/${name}`, import.meta.url);
    let body: Buffer;
    try {
      body = readFileSync(url);
    } catch (error) {
      throw hsuError('DASHBOARD_ASSET_MISSING', `the dashboard file ${url.pathname} is missing (was the package built? npm run build copies it)`, { file: url.pathname }, error);
    }
    asset = { body, contentType: TYPES[name] };
    cache.set(name, asset);
  }
  return asset;
}

/** A browser navigating asks for HTML; the hsu CLI, curl (any type) and API clients get JSON. */
export function wantsPage(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('text/html');
}

/** The asset a request path names: `/` (for a browser) or `/dashboard/<name>`; else undefined. */
export function assetForPath(pathname: string, accept: string | undefined): AssetName | undefined {
  if (pathname === '/' || pathname === '/dashboard' || pathname === '/dashboard/') return wantsPage(accept) || pathname !== '/' ? 'index.html' : undefined;
  if (!pathname.startsWith('/dashboard/')) return undefined;
  const name = pathname.slice('/dashboard/'.length);
  return isAssetName(name) ? name : undefined;
}
