/**
 * The control API's routes: a method and a path pattern (`/workers/:id/logs`) per handler. About
 * twenty fixed routes with one kind of parameter need no router library: a match walks the
 * segments of each route of that method, and the first that fits wins.
 */
import type { ApiRequest } from './request.js';
import type { Reply } from './reply.js';

export type Handler = (request: ApiRequest) => Reply | Promise<Reply>;

/** Runs before the routes; undefined lets the request go on. */
export type Middleware = (request: ApiRequest) => Reply | undefined | Promise<Reply | undefined>;

interface Route {
  readonly method: string;
  /** Literal segments, or `:name` for a parameter. */
  readonly segments: readonly string[];
  readonly handler: Handler;
}

export interface Match {
  readonly handler: Handler;
  readonly params: Readonly<Record<string, string>>;
}

export class Router {
  private readonly routes: Route[] = [];

  get(pattern: string, handler: Handler): this {
    return this.add('GET', pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add('POST', pattern, handler);
  }

  delete(pattern: string, handler: Handler): this {
    return this.add('DELETE', pattern, handler);
  }

  add(method: string, pattern: string, handler: Handler): this {
    this.routes.push({ method, segments: splitPath(pattern), handler });
    return this;
  }

  /** Every route as `method pattern`, in the order they were added (the OpenAPI test compares them with the document). */
  list(): { method: string; pattern: string }[] {
    return this.routes.map((route) => ({ method: route.method, pattern: `/${route.segments.join('/')}` }));
  }

  /** The route for `method` and `path`, with its parameters decoded; undefined when none fits. */
  match(method: string, path: string): Match | undefined {
    const segments = splitPath(path);
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== segments.length) continue;
      const params = matchSegments(route.segments, segments);
      if (params !== undefined) return { handler: route.handler, params };
    }
    return undefined;
  }
}

function splitPath(path: string): string[] {
  return path === '/' ? [] : path.slice(1).split('/');
}

function matchSegments(pattern: readonly string[], actual: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = actual[i]!;
    if (want.startsWith(':')) {
      if (got === '') return undefined;
      params[want.slice(1)] = decodeSegment(got);
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

/** A path segment percent-decoded; a malformed escape stays as it came (the id check then refuses it like any other bad id). */
export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
