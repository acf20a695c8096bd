/**
 * The client side of the control API: finds the endpoint a master wrote to its state directory
 * (`api.json`), reads the token, sends requests over the unix socket (or TCP/TLS), and turns the
 * API's `{ code, message, details }` back into an HsuError. node:http only: no framework, so a
 * command like `hsu ls` costs little more than starting node.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import path from 'node:path';
import { HsuError, catalogueKey, hsuError } from '../../errors.js';

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
  const headers: Record<string, string> = { accept: 'application/json' };
  if (endpoint.token !== undefined) headers.authorization = `Bearer ${endpoint.token}`;
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const base: RequestOptions = { method, path: pathname, headers, ...(signal === undefined ? {} : { signal }) };
  let send: typeof httpRequest = httpRequest;
  let options: RequestOptions;
  if (endpoint.socket !== null) {
    options = { ...base, socketPath: endpoint.socket, host: 'localhost' };
  } else if (endpoint.url !== null) {
    const url = new URL(endpoint.url);
    options = { ...base, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port };
    if (url.protocol === 'https:') {
      send = (await import('node:https')).request as typeof httpRequest;
      options = { ...options, ...(endpoint.ca === undefined ? {} : { ca: endpoint.ca }) };
    }
  } else {
    throw noMaster(endpoint.stateDir, 'api.json', ': it names no address');
  }
  return new Promise<Reply>((resolve, reject) => {
    const req = send(options, (response) => resolve({ status: response.statusCode ?? 0, response }));
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'AbortError') return reject(error);
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') return reject(noMaster(endpoint.stateDir, 'api.json', `: pid ${endpoint.pid} left api.json but does not answer`));
      reject(error);
    });
    req.end(payload);
  });
}

/** A JSON request; non-2xx answers are thrown as the HsuError they describe. */
export async function call<T>(endpoint: Endpoint, method: string, pathname: string, body?: unknown): Promise<T> {
  const { status, response } = await open(endpoint, method, pathname, body);
  const text = await readAll(response);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw hsuError('CLIENT_BAD_RESPONSE', `the master answered ${method} ${pathname} with HTTP ${status} and no JSON`, { status });
  }
  if (status >= 200 && status < 300) return parsed as T;
  throw rebuild(parsed, status);
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
