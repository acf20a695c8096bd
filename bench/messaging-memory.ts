/** Memory per idle command worker: 1000 started workers on one log in a fresh process (messaging-memory-child.ts). */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { note, verdict, type Row } from './common.js';
import type { WorkerMemoryReport } from './messaging-memory-child.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'messaging-memory-child.js');
const KB = 1024;

export async function benchWorkerMemory(): Promise<Row[]> {
  note('messaging memory: 1000 idle command workers in a fresh process...');
  const child = fork(CHILD, [], { execArgv: ['--expose-gc'] });
  const exited = once(child, 'exit');
  const [report] = (await once(child, 'message')) as [WorkerMemoryReport];
  await exited;
  const rssPer = (report.rssAfter - report.rssBefore) / report.workers;
  const heapPer = (report.heapAfter - report.heapBefore) / report.workers;
  note(`  ${report.workers} workers: RSS +${((report.rssAfter - report.rssBefore) / KB / KB).toFixed(1)} MB, heap +${((report.heapAfter - report.heapBefore) / KB / KB).toFixed(1)} MB`);
  return [
    { name: 'messaging: memory per idle command worker (RSS)', value: `${(rssPer / KB).toFixed(1)} KB`, spread: `heap ${(heapPer / KB).toFixed(1)} KB`, floor: `${(report.rssBefore / KB / KB).toFixed(1)} MB process with the log open`, ratio: '—', target: '≤ 1 MB', status: verdict(rssPer <= KB * KB && heapPer <= KB * KB) },
  ];
}
