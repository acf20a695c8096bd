// Shared by the control API tests: a real master behind the app (no socket), requests with and
// without the token, and a reader for SSE response bodies.
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createApiApp, type ApiApp, type ApiAppOptions } from '../../src/api/app.js';
import type { ControlHost } from '../../src/api/host.js';
import { EVENT_TYPES, type EventType } from '../../src/api/event-hub.js';
import type { WorkerConfigInput } from '../../src/index.js';
import { createTestMaster, nodeWorker, type TestMaster } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';

export const TOKEN = 'test-token-0123456789abcdef';

export function apiFixture(name: string): string {
  return path.join(repoRoot, 'test', 'api', 'fixtures', name);
}

/** A process worker running signal-echo.mjs: "ready", then "ping n"/"pong n" on each SIGUSR2. */
export function echoWorker(t: TestMaster, id: string, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return nodeWorker(t, id, path.join('..', 'api', 'fixtures', 'signal-echo.mjs'), [], extra);
}

/** Sends SIGUSR2 to a running echo worker once it printed "ready" (its handler is in place by then). */
export async function ping(t: TestMaster, id: string, times = 1): Promise<void> {
  const pid = t.master.getWorkerStateWithDiagnostics(id).pid;
  assert.ok(pid !== null, `${id} has no pid`);
  await t.events.waitFor(`${id} ready`, () => t.events.output.find((e) => e.worker_id === id && e.pid === pid && e.line === 'ready'));
  const pings = (): number => t.events.output.filter((e) => e.worker_id === id && e.pid === pid && e.line.startsWith('ping ')).length;
  // One at a time: signals sent back to back coalesce into one.
  for (let i = 0; i < times; i++) {
    const seen = pings();
    process.kill(pid, 'SIGUSR2');
    await t.events.waitFor(`ping ${seen + 1} from ${id}`, () => (pings() > seen ? true : undefined));
  }
}

/** An app served on a real loopback port, asked with fetch: the listener, headers and streams as a client meets them. */
export interface ServedApi {
  /** `http://127.0.0.1:<port>`, once it listens. */
  readonly base: Promise<string>;
  /** Like fetch, with a path on the served app. */
  request(pathname: string, init?: RequestInit): Promise<Response>;
  /** Ends the app's streams and every connection, then the server. */
  close(): Promise<void>;
}

export function serveApi(api: ApiApp): ServedApi {
  const server = createServer(api.listener);
  const base = new Promise<string>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
  return {
    base,
    request: async (pathname, init) => fetch(`${await base}${pathname}`, init),
    close: async () => {
      await base.catch(() => undefined);
      for (const end of [...api.context.streams]) end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export async function withServedApi<T>(api: ApiApp, body: (served: ServedApi) => Promise<T>): Promise<T> {
  const served = serveApi(api);
  try {
    return await body(served);
  } finally {
    await served.close();
  }
}

export interface Harness extends TestMaster {
  readonly api: ApiApp;
  readonly host: ControlHost;
  /** A request over loopback (see serveApi); `token: false` sends none. */
  request(method: string, pathname: string, init?: { body?: unknown; raw?: string | Uint8Array | ReadableStream<Uint8Array>; token?: string | false; headers?: Record<string, string> }): Promise<Response>;
  json<T = Record<string, unknown>>(method: string, pathname: string, init?: { body?: unknown; token?: string | false }): Promise<{ status: number; body: T }>;
  /** A GET with a Host header of the caller's choosing (fetch never sends one but its own): status and parsed body. */
  getWithHost(pathname: string, host: string): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Resolves once the server has ended every stream (a client's cancel reaches it over the socket). */
  streamsClosed(): Promise<void>;
  dispose(): Promise<void>;
}

export function createHarness(hostExtras: Partial<ControlHost> = {}, appOptions: Partial<ApiAppOptions> = {}): Harness {
  const t = createTestMaster();
  const host: ControlHost = { master: t.master, logDir: path.join(t.dir, 'logs'), ...hostExtras };
  const api = createApiApp(host, { token: TOKEN, ...appOptions });
  const served = serveApi(api);
  const request: Harness['request'] = async (method, pathname, init = {}) => {
    const headers: Record<string, string> = { ...init.headers };
    const token = init.token === undefined ? TOKEN : init.token;
    if (token !== false) headers.authorization = `Bearer ${token}`;
    const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    if (body !== undefined && typeof body === 'string') headers['content-type'] = 'application/json';
    return served.request(pathname, { method, headers, ...(body === undefined ? {} : { body, duplex: 'half' }) } as RequestInit);
  };
  return {
    ...t,
    api,
    host,
    request,
    json: async <T>(method: string, pathname: string, init: { body?: unknown; token?: string | false } = {}) => {
      const response = await request(method, pathname, init);
      const text = await response.text();
      return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as T };
    },
    getWithHost: async (pathname, hostHeader) => {
      const url = new URL(pathname, await served.base);
      return new Promise((resolve, reject) => {
        const req = httpRequest(url, { headers: { host: hostHeader }, agent: false }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.once('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
        });
        req.once('error', reject).end();
      });
    },
    streamsClosed: () => eventually('the server to end every stream', () => (api.context.streams.size === 0 ? true : undefined)).then(() => undefined),
    dispose: async () => {
      await served.close();
      await t.dispose();
    },
  };
}

export async function withHarness(body: (h: Harness) => Promise<void>, hostExtras: Partial<ControlHost> = {}, appOptions: Partial<ApiAppOptions> = {}): Promise<void> {
  const h = createHarness(hostExtras, appOptions);
  try {
    await body(h);
  } finally {
    await h.dispose();
  }
}

export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
}

/** Reads events from an SSE body until `until` says so (or the bound passes), then cancels it. */
export class SseReader {
  readonly events: SseEvent[] = [];
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffered = '';
  private readonly decoder = new TextDecoder();
  private ended = false;

  constructor(response: Response) {
    assert.equal(response.status, 200, `expected an event stream, got HTTP ${response.status}`);
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.ok(response.body !== null);
    this.reader = response.body.getReader();
  }

  async until<T>(what: string, pick: (events: SseEvent[]) => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = pick(this.events);
      if (found !== undefined) return found;
      if (this.ended) assert.fail(`stream ended before ${what}; events: ${JSON.stringify(this.events)}`);
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events)}`);
      let timer: NodeJS.Timeout | undefined;
      const chunk = await Promise.race([this.reader.read(), new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)))]);
      clearTimeout(timer);
      if (chunk === 'timeout') continue;
      if (chunk.done) this.ended = true;
      else this.push(this.decoder.decode(chunk.value, { stream: true }));
    }
  }

  /** Resolves once the server ended the stream. */
  async end(timeoutMs = 10_000): Promise<void> {
    await this.until('the end of the stream', () => (this.ended ? true : undefined), timeoutMs).catch((error: unknown) => {
      if (!this.ended) throw error;
    });
  }

  get done(): boolean {
    return this.ended;
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private push(text: string): void {
    this.buffered += text;
    const blocks = this.buffered.split('\n\n');
    this.buffered = blocks.pop() ?? '';
    for (const block of blocks) {
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length > 0) this.events.push({ event, data: JSON.parse(data.join('\n')) as unknown });
    }
  }
}

/** Listener counts of every master event, to compare before and after a stream. */
export function listenerCounts(h: TestMaster): Record<string, number> {
  // Every type GET /events can stream from the master (reload comes from the control plane's own bus).
  const names = EVENT_TYPES.filter((type): type is Exclude<EventType, 'reload'> => type !== 'reload');
  return Object.fromEntries(names.map((name) => [name, h.master.events.listenerCount(name)]));
}

export async function eventually<T>(what: string, pick: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await pick();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
