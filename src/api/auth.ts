/**
 * Who may do what. Every mutation needs the token; reads need it too on a listener other machines
 * can reach. The token travels in `Authorization: Bearer <token>` only: no cookies, so a page in a
 * browser cannot borrow a session (no CSRF), and no query string, so it never lands in a log.
 * On a loopback TCP listener the Host header must name that listener: a web page that rebinds its
 * own host name to 127.0.0.1 (DNS rebinding) is refused before it can read anything.
 */
import { hsuError } from '../errors.js';
import type { Middleware } from './http/router.js';
import { errorResponse } from './respond.js';
import { bearerToken, tokenMatches } from './token.js';

export interface AuthOptions {
  readonly token: string;
  readonly readsNeedToken: boolean;
  /** Accepted Host header values (lowercase host:port); undefined accepts any (the unix socket). */
  readonly allowedHosts?: ReadonlySet<string>;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function authMiddleware(options: AuthOptions): Middleware {
  return (request) => {
    if (options.allowedHosts !== undefined) {
      const hostHeader = (request.header('host') ?? '').toLowerCase();
      if (!options.allowedHosts.has(hostHeader)) {
        return errorResponse(hsuError('API_BAD_REQUEST', `Host ${JSON.stringify(hostHeader)} is not this API's address`, { host: hostHeader }));
      }
    }
    const needsToken = options.readsNeedToken || !READ_METHODS.has(request.method);
    if (needsToken && !tokenMatches(options.token, bearerToken(request.header('authorization')))) {
      const given = request.header('authorization') !== undefined;
      return errorResponse(
        hsuError('API_UNAUTHORIZED', given ? 'wrong API token' : 'this request needs the API token: Authorization: Bearer <token> (hsu reads it from the state directory)', {}),
        undefined,
        { 'www-authenticate': 'Bearer realm="hsu"' },
      );
    }
    return undefined;
  };
}
