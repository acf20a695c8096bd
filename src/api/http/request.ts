/**
 * One request to the control API as the handlers see it: method, path, the route's parameters,
 * the query, headers and the body, straight from node:http. No web `Request`: building one loads
 * undici into the master (about 13 MB of RSS) for objects the API would only take apart again.
 */
import type { IncomingMessage } from 'node:http';

export class ApiRequest {
  readonly method: string;
  /** The path without the query, as the client sent it (not decoded). */
  readonly path: string;
  private readonly search: string;
  private params: Readonly<Record<string, string>> = {};

  constructor(readonly raw: IncomingMessage) {
    // HEAD is answered by the GET route; node:http sends the headers and drops the body.
    this.method = raw.method === 'HEAD' ? 'GET' : (raw.method ?? 'GET');
    const url = raw.url ?? '/';
    const q = url.indexOf('?');
    this.path = q === -1 ? url : url.slice(0, q);
    this.search = q === -1 ? '' : url.slice(q);
  }

  /** The method on the wire (HEAD stays HEAD here). */
  get wireMethod(): string {
    return this.raw.method ?? 'GET';
  }

  /** A route parameter (`:id`), percent-decoded; undefined when the route has none of that name. */
  param(name: string): string | undefined {
    return this.params[name];
  }

  /** Set by the router once a route matched. */
  withParams(params: Readonly<Record<string, string>>): this {
    this.params = params;
    return this;
  }

  /** The query parameters; a repeated name keeps its first value (as hono did). */
  query(): Record<string, string> {
    const query: Record<string, string> = {};
    for (const [name, value] of new URLSearchParams(this.search)) query[name] ??= value;
    return query;
  }

  header(name: string): string | undefined {
    const value = this.raw.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}
