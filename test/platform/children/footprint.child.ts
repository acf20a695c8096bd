/**
 * A fresh process for the footprint tests (none of the test runner's modules loaded): records every
 * package the process loads, runs a master with an inline module and a process worker, and
 * reports which packages were loaded, the master's heap-trim log record and whether a `gc` global
 * was left behind. With --api, the master also serves its control API on a unix socket and answers
 * one request on it. Usage: footprint.child.js <plugin> [--no-trim] [--cron] [--api] [--package].
 */
import { registerHooks } from 'node:module';
import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import type * as HsuPackage from '../../../src/index.js';

const packages = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(resolved.url)?.[1];
    if (name !== undefined) packages.add(name);
    return resolved;
  },
});

const plugin = process.argv[2];
if (plugin === undefined) throw new Error('usage: footprint.child.js <plugin> [--no-trim] [--cron]');
const { default: pino } = await import('pino');
// --package: the master as a user imports it, through package.json's exports (the bundle).
const entry: string = process.argv.includes('--package') ? 'hsu' : '../../../src/index.js';
const { Master } = (await import(entry)) as typeof HsuPackage;
const { TRIM_SETTLE_MS } = await import('../../../src/master/heap-trim.js');
const { report, waitFor } = await import('./report.js');

const records: { msg?: string; pause_ms?: unknown; rss_before?: unknown; rss_after?: unknown }[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line !== '') records.push(JSON.parse(line) as (typeof records)[number]);
    done();
  },
});
const newSpace = (): number => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
const master = new Master({ logger: pino({ level: 'debug' }, sink), trimHeapAfterStart: !process.argv.includes('--no-trim'), cgroups: 'off' });
master.addWorker({ id: 'inline', type: 'module', module: { module_type: 'plugin', module_path: plugin } });
master.addWorker({ id: 'proc', type: 'process', execution: { executable_path: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] } });
if (process.argv.includes('--cron')) master.addWorker({ id: 'cron', type: 'process', restart_schedule: '0 3 * * *', execution: { executable_path: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] } });
const newSpaceBefore = newSpace();
await master.start();
let apiStatus: number | undefined;
let api: { close(): Promise<void> } | undefined;
if (process.argv.includes('--api')) {
  const { ApiServer, resolveApiSettings, apiSettingsSchema } = await import('../../../src/api/index.js');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const stateDir = mkdtempSync(`${tmpdir()}/hsu-footprint-`);
  const server = await ApiServer.start({ host: { master, logDir: stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse({}), stateDir, stateDir, {}) });
  api = server;
  apiStatus = await statusOverSocket(server.endpoint.socket!, server.token.value);
}
let trimmed = false;
try {
  await waitFor('the heap trim', () => records.some((r) => r.msg === 'heap trimmed'), TRIM_SETTLE_MS + 3000);
  trimmed = true;
} catch {
  // not trimmed within the bound: reported as such
}
const trim = records.find((r) => r.msg === 'heap trimmed');
const newSpaceAfter = newSpace();
await api?.close();
await master.shutdown();
report({
  packages: [...packages].sort(),
  trimmed,
  trim,
  newSpaceBefore,
  newSpaceAfter,
  gcGlobal: typeof (globalThis as { gc?: unknown }).gc,
  gcInNewContext: vm.runInNewContext('typeof gc') as string,
  builtins: (process as unknown as { moduleLoadList: string[] }).moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length)),
  apiStatus,
});

/** GET /workers over the socket by hand: this process must load nothing a client would. */
async function statusOverSocket(socket: string, token: string): Promise<number> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let text = '';
    conn.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    conn.once('error', reject).once('end', () => resolve(Number(/^HTTP\/1\.1 (\d+)/.exec(text)?.[1] ?? 0)));
    conn.write(`GET /workers HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\nconnection: close\r\n\r\n`);
  });
}
