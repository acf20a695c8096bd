/** Forked with --expose-gc by messaging-memory.ts: memory before and after starting 1000 idle command workers. */
import { CommandWorker } from '../src/messaging/index.js';
import { scratchDir, sleep } from './common.js';
import { openBenchLog } from './messaging-common.js';

export interface WorkerMemoryReport {
  readonly workers: number;
  readonly rssBefore: number;
  readonly rssAfter: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
}

const WORKERS = 1000;

function settled(): { rss: number; heap: number } {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

const scratch = scratchDir('messaging-memory');
const log = openBenchLog(scratch.dir, 'memory');
// One worker first, so code loading and JIT are not charged to the thousand.
const warm = new CommandWorker({ name: 'warm', state: {}, log }).onCommand('order/placed', () => undefined);
await warm.start();
await sleep(200);
const before = settled();
const workers: CommandWorker[] = [];
for (let i = 0; i < WORKERS; i++) {
  const worker = new CommandWorker({ name: `idle-${i}`, state: {}, log }).onCommand('order/placed', () => undefined);
  await worker.start();
  workers.push(worker as unknown as CommandWorker);
}
await sleep(500);
const after = settled();
for (const worker of workers) await worker.stop();
await warm.stop();
await log.close();
scratch.remove();
const report: WorkerMemoryReport = { workers: WORKERS, rssBefore: before.rss, rssAfter: after.rss, heapBefore: before.heap, heapAfter: after.heap };
process.send?.(report, () => process.disconnect());
