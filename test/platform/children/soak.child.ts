/**
 * Memory soak of the call hot paths with a deadline or a signal, run with --expose-gc: warm up,
 * collect, read the heap, make the calls, collect, read again. Reports the growth per phase and the
 * listeners left on the caller's long-lived signal (one signal for every call, the case that
 * leaked with AbortSignal.any). Usage: soak.child.js <inline|thread|process>.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Master, type CallOptions } from '../../../src/index.js';
import { plugin } from '../../helpers/master-helpers.js';
import { report } from './report.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const deployment = process.argv[2] ?? 'inline';
const CALLS = deployment === 'inline' ? 200_000 : 20_000;
/** Calls in flight at once: enough to keep the channel busy, few enough to stay a steady state. */
const CONCURRENCY = 64;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

async function calls(master: Master, count: number, options: () => CallOptions): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await master.call('w', 'echo', next, options());
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

const logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-soak-'));
const master = new Master({ logDir });
const module = { module_type: 'plugin', module_path: plugin('ok.mjs') } as const;
master.addWorker(deployment === 'process' ? { id: 'w', type: 'process', module } : { id: 'w', type: 'module', module: { ...module, isolation: deployment as 'inline' | 'thread' } });
await master.startWorker('w');

const longLived = new AbortController();
const phases: Record<string, () => CallOptions> = { timeout: () => ({ timeout: 1000 }) };
phases.signal = () => ({ signal: longLived.signal });
const growth: Record<string, number> = {};
for (const [name, options] of Object.entries(phases)) {
  await calls(master, 5_000, options); // warm-up: JIT, lazily grown tables
  const before = await heapAfterGc();
  await calls(master, CALLS, options);
  growth[name] = (await heapAfterGc()) - before;
}
const signalListeners = getEventListeners(longLived.signal, 'abort').length;
await master.shutdown();
rmSync(logDir, { recursive: true, force: true });
report({ deployment, calls: CALLS, growth, signalListeners });
