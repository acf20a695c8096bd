/**
 * The client side of the control API: finds the endpoint a master wrote to its state directory
 * (`api.json`), reads the token, sends requests over the unix socket (or TCP/TLS), and turns the
 * API's `{ code, message, details }` back into an HsuError. No framework: a JSON request on the
 * socket is one bare HTTP exchange (unix-http.ts), streams and TCP/TLS go through node:http, so a
 * command like `hsu ls` costs little more than starting node.
 */
import type { IncomingMessage, RequestOptions } from 'node:http';
import { HsuError, catalogueKey, hsuError } from '../../errors.js';
import { unixRequest } from './unix-http.js';

// Built-ins through getBuiltinModule, not ESM imports, on this path: an ESM import enumerates a
// module's exports, and for node:http the lazy WebSocket/CloseEvent/MessageEvent getters among
// them load undici (~50 ms of every `hsu ls`); node:fs and node:util cost a few ms each.
const { readFileSync } = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

export interface Endpoint {
  readonly stateDir: string;
  readonly pid: number;
  readonly socket: string | null;
  readonly url: string | null;
  readonly ca: Buffer | undefined;
  readonly token: string | undefined;
}

/** Reads `<stateDir>/api.json`; CLIENT_NO_MASTER when there is none. */
export function readEndpoint(stateDir: string, from: string, env: NodeJS.ProcessEnv = process.env): Endpoint {
  let record: { pid?: number; socket?: string | null; url?: string | null; ca_file?: string | null; token_file?: string | null };
  try {
    record = JSON.parse(readFileSync(path.join(stateDir, 'api.json'), 'utf8')) as typeof record;
  } catch {
    throw noMaster(stateDir, from);
  }
  const envToken = env.HSU_TOKEN !== undefined && env.HSU_TOKEN !== '' ? env.HSU_TOKEN : undefined;
  return {
    stateDir,
    pid: record.pid ?? 0,
    socket: record.socket ?? null,
    url: record.url ?? null,
    ca: record.ca_file ? readQuietly(record.ca_file) : undefined,
    token: envToken ?? (record.token_file ? readQuietly(record.token_file)?.toString('utf8').trim() : undefined),
  };
}

export function noMaster(stateDir: string, from: string, detail = ''): HsuError {
  return hsuError('CLIENT_NO_MASTER', `no master is running for ${stateDir} (found through ${from})${detail}; start one with: hsu run -d <config.yaml>`, { state_dir: stateDir });
}

export interface Reply {
  readonly status: number;
  readonly response: IncomingMessage;
}

/** Opens a request; the caller reads the response (JSON or an event stream). */
export async function open(endpoint: Endpoint, method: string, pathname: string, body?: unknown, signal?: AbortSignal): Promise<Reply> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const base: RequestOptions = { method, path: pathname, headers: headersFor(endpoint, payload), ...(signal === undefined ? {} : { signal }) };
  let send = process.getBuiltinModule('node:http').request;
  let options: RequestOptions;
  if (endpoint.socket !== null) {
    options = { ...base, socketPath: endpoint.socket, host: 'localhost' };
  } else if (endpoint.url !== null) {
    const url = new URL(endpoint.url);
    options = { ...base, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port };
    if (url.protocol === 'https:') {
      send = process.getBuiltinModule('node:https').request as typeof send;
      options = { ...options, ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }) };
    }
  } else {
    throw noMaster(endpoint.stateDir, 'api.json', ': it names no address');
  }
  return new Promise<Reply>((resolve, reject) => {
    const req = send(options, (response) => resolve({ status: response.statusCode ?? 0, response }));
    req.once('error', (error: NodeJS.ErrnoException) => reject(error.name === 'AbortError' ? error : connectError(endpoint, error)));
    req.end(payload);
  });
}

/** A JSON request; non-2xx answers are thrown as the HsuError they describe. */
export async function call<T>(endpoint: Endpoint, method: string, pathname: string, body?: unknown): Promise<T> {
  let status: number;
  let text: string;
  if (endpoint.socket !== null) {
    // The common case, and the one `hsu ls` is timed on: one request on a bare socket.
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const reply = await unixRequest(endpoint.socket, method, pathname, headersFor(endpoint, payload), payload).catch((error: NodeJS.ErrnoException) => {
      throw connectError(endpoint, error);
    });
    ({ status, body: text } = reply);
  } else {
    const reply = await open(endpoint, method, pathname, body);
    status = reply.status;
    text = await readAll(reply.response);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw hsuError('CLIENT_BAD_RESPONSE', `the master answered ${method} ${pathname} with HTTP ${status} and no JSON`, { status });
  }
  if (status >= 200 && status < 300) return parsed as T;
  throw rebuild(parsed, status);
}

function headersFor(endpoint: Endpoint, payload: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (endpoint.token !== undefined) headers.authorization = `Bearer ${endpoint.token}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return headers;
}

/** A socket nobody listens on (or that is gone) means the master is not running. */
function connectError(endpoint: Endpoint, error: NodeJS.ErrnoException): Error {
  if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') return noMaster(endpoint.stateDir, 'api.json', `: pid ${endpoint.pid} left api.json but does not answer`);
  return error;
}

/** The API's error body as an HsuError with the same code, message and details (as context). */
export function rebuild(body: unknown, status: number): Error {
  const { code, message, details } = (body ?? {}) as { code?: string; message?: string; details?: Record<string, unknown> };
  const key = catalogueKey(code);
  if (key !== undefined) return new HsuError(key, message, { context: details ?? {} });
  return hsuError('CLIENT_BAD_RESPONSE', `HTTP ${status}: ${message ?? 'no error body'}`, { status, code });
}

export function readAll(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.once('error', reject);
  });
}

function readQuietly(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
