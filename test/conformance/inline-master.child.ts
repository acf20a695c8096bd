/**
 * A master in a process of its own, for the inline isolation cases: an uncaught error or an exit
 * inside an inline module happens in the master's process, so it cannot be observed safely from
 * inside the test runner (whose own uncaughtException handler fails the running test). Prints one
 * `RESULT <json>` line. Not a test file: the suite runs it with `node`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Master } from '../../src/master/master.js';
import { SIBLING, waitFor, workerConfig } from './harness.js';

const mode = process.argv[2];
const logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-inline-master-'));
const master = new Master({ logDir });
master.addWorker(workerConfig('inline', 'victim'));
master.addWorker(workerConfig('inline', SIBLING));
await master.start();

type Who = { token: string };
const report = (result: Record<string, unknown>): void => {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
};

try {
  const before = (await master.call('victim', 'whoami', undefined)) as Who;
  if (mode === 'throwFromTimer' || mode === 'throwFromActionTimer') {
    await master.call('victim', mode, 'thrown by the module timer');
    const d = await waitFor('the victim to restart', () => {
      const diag = master.getWorkerStateWithDiagnostics('victim') as { state: string; restart_count: number };
      return diag.restart_count >= 1 && diag.state === 'running' ? (diag as unknown as Record<string, unknown>) : undefined;
    });
    const after = (await master.call('victim', 'whoami', undefined)) as Who;
    const sibling = master.getWorkerStateWithDiagnostics(SIBLING) as { state: string; restart_count: number };
    report({
      restart_count: d.restart_count,
      last_error: d.last_error,
      new_instance: after.token !== before.token,
      sibling: { state: sibling.state, restart_count: sibling.restart_count, echo: await master.call(SIBLING, 'echo', { text: 'x', n: 1 }) },
      master_pid: process.pid,
    });
  } else if (mode === 'exit') {
    // Shared fate: process.exit() in an inline module is the master's exit. Nothing below should run.
    await master.call('victim', 'exit', 7);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    report({ survived: true });
  } else {
    throw new Error(`unknown mode ${String(mode)}`);
  }
} finally {
  await master.shutdown();
  rmSync(logDir, { recursive: true, force: true });
}
