/**
 * One contender in a state-directory race: loads hsu, says "loaded", waits for a line on stdin,
 * then creates a Master on the state directory in argv[2] at once. Reports whether it got the
 * directory (and its pid) or the error; a winner holds the directory until stdin ends.
 */
import { Master } from '../../../src/index.js';
import { report } from './report.js';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: lock-racer.child.js <state_dir>');
process.stdout.write('loaded\n');
process.stdin.once('data', () => {
  let master: Master | undefined;
  try {
    master = new Master({ stateDir, logDir: `${stateDir}-logs` });
    report({ ok: true, pid: process.pid });
  } catch (error) {
    const e = error as { code?: string; context?: { pid?: number } };
    report({ ok: false, pid: process.pid, code: e.code, owner: e.context?.pid });
  }
  // The winner keeps the lock until the test lets go, so the loser cannot have raced a released one.
  process.stdin.once('end', () => void master?.shutdown());
  process.stdin.resume();
});
