/**
 * The `master.api` settings block: where the control API listens and how it authenticates. The
 * schema is the one source of its type; it is part of `masterSettingsSchema`.
 *
 * ```yaml
 * master:
 *   api:
 *     socket: true              # <state_dir>/hsu.sock (default); false for none, or a path
 *     listen: 127.0.0.1:9900    # also on TCP; a non-loopback host needs token + tls
 *     token_file: /etc/hsu/token
 *     tls: { cert: cert.pem, key: key.pem }
 * ```
 */
import { isIP } from 'node:net';
import path from 'node:path';
import * as z from 'zod';
import { hsuError } from '../errors.js';

/** 1 MiB: a worker config or a reload request is a few kB; anything near this is a mistake or an attack. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Linux sun_path holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

const listenSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, {
  error: (issue) => `expected host:port, e.g. 127.0.0.1:9900 or [::1]:9900, got ${JSON.stringify(issue.input)}`,
});

export const apiSettingsSchema = z
  .strictObject({
    /** false: no control API at all (nothing can steer this master from outside). */
    enabled: z.boolean().default(true),
    /** true: `<state_dir>/hsu.sock`; a string: that path (relative to the config file); false: no socket. */
    socket: z.union([z.boolean(), z.string().min(1)]).default(true),
    /** TCP address, in addition to the socket. */
    listen: listenSchema.optional(),
    /** The token itself; prefer token_file or HSU_TOKEN so it is not in the config file. */
    token: z.string().min(16, 'a token needs at least 16 characters').optional(),
    token_file: z.string().min(1).optional(),
    tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
    /** Largest accepted request body, bytes. */
    max_body_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(DEFAULT_MAX_BODY_BYTES),
  })
  .superRefine((api, ctx) => {
    if (api.token !== undefined && api.token_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token_file'], message: 'give either token or token_file, not both' });
    }
    if (api.enabled && api.socket === false && api.listen === undefined) {
      ctx.addIssue({ code: 'custom', path: ['socket'], message: 'with socket: false the API needs listen (or set enabled: false)' });
    }
  });

export type ApiSettings = z.output<typeof apiSettingsSchema>;
export type ApiSettingsInput = z.input<typeof apiSettingsSchema>;

export interface TcpAddress {
  readonly host: string;
  readonly port: number;
}

/** The settings with every path absolute and the listen address split; what the server needs. */
export interface ResolvedApiSettings {
  readonly enabled: boolean;
  readonly socketPath: string | undefined;
  readonly tcp: TcpAddress | undefined;
  readonly token: string | undefined;
  /** The token came from HSU_TOKEN (so it is not written anywhere). */
  readonly tokenFromEnv: boolean;
  readonly tokenFile: string | undefined;
  readonly tls: { readonly cert: string; readonly key: string } | undefined;
  readonly maxBodyBytes: number;
  readonly stateDir: string;
}

/** Parses `host:port` (IPv6 in brackets). */
export function parseListen(listen: string): TcpAddress {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(listen);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw hsuError('API_CONFIG_INVALID', `master.api.listen: expected host:port, got ${JSON.stringify(listen)}`, { listen });
  }
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Loopback only: 127.0.0.0/8, ::1 and the name localhost. 0.0.0.0 and :: listen everywhere. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./i.test(host);
  return false;
}

/**
 * Resolves paths against `baseDir` (the config file's directory) and applies the rules no schema
 * can see: HSU_TOKEN from the environment, and no non-loopback listen without TLS and a token.
 */
export function resolveApiSettings(settings: ApiSettings, stateDir: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): ResolvedApiSettings {
  const socketPath = settings.socket === false ? undefined : settings.socket === true ? path.join(stateDir, 'hsu.sock') : path.resolve(baseDir, settings.socket);
  if (settings.enabled && socketPath !== undefined && Buffer.byteLength(socketPath) > MAX_SOCKET_PATH_BYTES) {
    throw hsuError(
      'API_CONFIG_INVALID',
      `master.api.socket: ${socketPath} is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket path may have; set master.api.socket to a shorter path`,
      { socket: socketPath },
    );
  }
  const tcp = settings.listen === undefined ? undefined : parseListen(settings.listen);
  const envToken = env.HSU_TOKEN !== undefined && env.HSU_TOKEN !== '' ? env.HSU_TOKEN : undefined;
  const token = envToken ?? settings.token;
  const tokenFile = envToken === undefined && settings.token_file !== undefined ? path.resolve(baseDir, settings.token_file) : undefined;
  const tls = settings.tls === undefined ? undefined : { cert: path.resolve(baseDir, settings.tls.cert), key: path.resolve(baseDir, settings.tls.key) };
  if (settings.enabled && tcp !== undefined && !isLoopbackHost(tcp.host)) {
    const missing = [tls === undefined ? 'tls (cert and key)' : undefined, token === undefined && tokenFile === undefined ? 'a token (token, token_file or HSU_TOKEN)' : undefined].filter(
      (m): m is string => m !== undefined,
    );
    if (missing.length > 0) {
      throw hsuError(
        'API_INSECURE_LISTEN',
        `master.api.listen: ${settings.listen ?? ''} is reachable from other machines; that needs ${missing.join(' and ')}. Listen on 127.0.0.1 or configure them`,
        { listen: settings.listen, missing },
      );
    }
  }
  return { enabled: settings.enabled, socketPath, tcp, token, tokenFromEnv: envToken !== undefined, tokenFile, tls, maxBodyBytes: settings.max_body_bytes, stateDir };
}
