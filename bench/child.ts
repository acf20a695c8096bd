/**
 * One benchmark job in a fresh process: no other job's garbage, JIT state or async hooks in its
 * numbers. Reports its rows and any child process still alive afterwards, then exits on its own
 * (run.ts flags a job whose handles keep it alive).
 */
import { liveChildren, type Row } from './common.js';
import { JOBS } from './jobs.js';

export interface JobReport {
  readonly rows: Row[];
  /** pids of children of this job still alive after it finished: should be empty. */
  readonly leftovers: number[];
}

const name = process.argv[2] ?? '';
const job = JOBS[name];
if (job === undefined) throw new Error(`unknown benchmark job '${name}' (jobs: ${Object.keys(JOBS).join(', ')})`);
const rows = await job();
const report: JobReport = { rows, leftovers: liveChildren() };
process.send?.(report, () => process.disconnect());
