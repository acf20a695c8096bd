/**
 * Runs in its own process (forked by memory.ts) so no other benchmark's garbage is in the number.
 * `bare`: import nothing (Node itself). `floor`: import hsu and do nothing. `master`: supervise 100
 * inline modules and 20 idle Node children. All settle the same time, then report RSS over IPC.
 */
import { readFileSync } from 'node:fs';
import { TRIM_SETTLE_MS } from '../src/master/heap-trim.js';
import { firstLineFromEach, fixture, scratchDir, sleep } from './common.js';
import type * as HsuPackage from '../src/index.js';

export type MemoryMode = 'bare' | 'floor' | 'master';

export interface MemoryReport {
  readonly mode: MemoryMode;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** After two forced GCs (needs --expose-gc): the part of RSS that is not collectable garbage. */
  readonly rssAfterGcBytes: number;
  /** master mode: RSS right after import, before any worker was added. */
  readonly rssBeforeWorkersBytes?: number;
  /** master mode: RSS with the 100 inline modules running, before the process workers. */
  readonly rssWithInlineBytes?: number;
  /** master mode: summed RSS of the 20 children, for information (they are not the master). */
  readonly childrenRssBytes?: number;
}

// Longer than the master's own settle (TRIM_SETTLE_MS, then one memory-reducing GC): RSS is read the
// way a master sits once its start is over, not in the middle of it.
const SETTLE_MS = TRIM_SETTLE_MS + 1000;
const INLINE_MODULES = 100;
const PROCESS_WORKERS = 20;

function childRss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return kb === undefined ? 0 : Number(kb) * 1024;
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
}

async function settleAndReport(mode: MemoryMode, extra: Partial<MemoryReport>): Promise<MemoryReport> {
  await sleep(SETTLE_MS);
  const { rss, heapUsed } = process.memoryUsage();
  gc();
  await sleep(100);
  return { mode, rssBytes: rss, heapUsedBytes: heapUsed, rssAfterGcBytes: process.memoryUsage().rss, ...extra };
}

function send(report: MemoryReport): Promise<void> {
  return new Promise((resolve) => process.send?.(report, () => resolve()) ?? resolve());
}

async function main(): Promise<void> {
  const mode = process.argv[2] as MemoryMode;
  if (mode === 'bare') {
    await send(await settleAndReport('bare', {}));
    return;
  }
  // The package as a user imports it: package.json's exports (the bundle), or tsc's files when
  // memory.ts starts this child with --conditions=hsu-unbundled.
  const entry: string = 'hsu';
  const { Master } = (await import(entry)) as typeof HsuPackage;
  if (mode === 'floor') {
    await send(await settleAndReport('floor', {}));
    return;
  }
  const scratch = scratchDir('memory');
  const rssBeforeWorkersBytes = process.memoryUsage().rss;
  const master = new Master({ logDir: scratch.dir });
  try {
    for (let i = 0; i < INLINE_MODULES; i++) {
      master.addWorker({ id: `inline-${i}`, type: 'module', module: { module_type: 'plugin', module_path: fixture('echo-module.mjs') } });
    }
    await master.start();
    const rssWithInlineBytes = process.memoryUsage().rss;
    const allReady = firstLineFromEach(master, PROCESS_WORKERS);
    for (let i = 0; i < PROCESS_WORKERS; i++) {
      const id = `proc-${i}`;
      master.addWorker({ id, type: 'process', execution: { executable_path: process.execPath, args: [fixture('idle-child.mjs')] } });
      await master.startWorker(id);
    }
    await allReady;
    const pids = master.listWorkers().flatMap((id) => {
      const pid = master.getWorkerStateWithDiagnostics(id).pid;
      return typeof pid === 'number' ? [pid] : [];
    });
    const report = await settleAndReport('master', { rssBeforeWorkersBytes, rssWithInlineBytes });
    const childrenRssBytes = pids.reduce((sum, pid) => sum + childRss(pid), 0);
    await send({ ...report, childrenRssBytes });
  } finally {
    await master.shutdown();
    scratch.remove();
  }
}

await main();
process.disconnect?.();
