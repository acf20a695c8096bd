// A start timeout gives up on a launch, but the worker stays `starting` until the runtime has
// ended what that launch began; only then is it failed_start with HSU_ERR_START_TIMEOUT. So a
// manual start made the moment failed_start is reported can never overlap the abandoned launch.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Master, WorkerConfigInput } from '../../src/index.js';
import { alivePids, diagnostics, tempDir, withMaster } from '../helpers/master-helpers.js';
import { logLines, platformFixture, waitFor } from './support.js';

const T = { timeout: 60_000 };
const scratch = tempDir('start-timeout');
after(() => scratch.remove());
let logs = 0;

function stubborn(id: string, deployment: 'inline' | 'process', log: string): WorkerConfigInput {
  const module = { module_type: 'plugin' as const, module_path: platformFixture('stubborn-start.mjs'), config: { log, slow_ms: 6000 } };
  // The first launch outlasts the timeout by far; the second (fast) one must fit in it even when a
  // loaded machine needs a second or more to spawn a hosted module's process.
  const common = { id, start_timeout: '2s', stop_timeout: '10s', restart: { policy: 'never' as const } };
  return deployment === 'inline' ? { ...common, type: 'module', module } : { ...common, type: 'process', module };
}

/** The pid of launch `n`, from its "begin" line. */
function pidOf(lines: readonly string[], n: number): number {
  return Number(lines.find((l) => l.startsWith(`begin ${n} `))?.split(' ')[2]);
}

/** On failed_start: what the log said at that moment, which launched pids were alive, and a manual start made right then. */
function restartOnFailedStart(master: Master, id: string, log: string): Promise<{ logAtFailure: string[]; aliveAtFailure: number[]; second: Promise<void> }> {
  return new Promise((resolve) => {
    const off = master.on('state', (e) => {
      if (e.worker_id !== id || e.to !== 'failed_start') return;
      off();
      const logAtFailure = logLines(log);
      const aliveAtFailure = alivePids([pidOf(logAtFailure, 1)].filter((pid) => pid > 0 && pid !== process.pid));
      const second = master.startWorker(id);
      second.catch(() => undefined); // asserted by the test
      resolve({ logAtFailure, aliveAtFailure, second });
    });
  });
}

void describe('a start slower than start_timeout whose launch keeps running', () => {
  it('inline: stays starting until the launch ended, then failed_start; a start right then never overlaps it', T, () =>
    withMaster(async ({ master, events }) => {
      const log = path.join(scratch.dir, `inline-${++logs}.log`);
      master.addWorker(stubborn('w', 'inline', log));
      const failed = restartOnFailedStart(master, 'w', log);
      const first = master.startWorker('w');
      first.catch(() => undefined);

      await waitFor('the start to be given up on (ctx.signal fired)', () => logLines(log).includes('aborted 1'));
      assert.equal(master.getWorkerState('w'), 'starting', 'timed out, but its launch still runs: the worker must stay starting');
      assert.ok(!logLines(log).includes('start-end 1'));

      await assert.rejects(first, { code: 'HSU_ERR_START_TIMEOUT' });
      const { logAtFailure, second } = await failed;
      assert.ok(logAtFailure.includes('start-end 1'), `failed_start was reported before the abandoned launch ended:\n${logAtFailure.join('\n')}`);
      await second;
      assert.equal(await master.call('w', 'launch'), 2);
      assert.equal(await master.call('w', 'maxLive'), 1, 'two instances of the module were alive at once');
      assert.deepEqual(events.transitions('w'), ['idle->starting', 'starting->failed_start', 'failed_start->starting', 'starting->running']);
      assert.equal(diagnostics(master, 'w').last_error?.code, 'HSU_ERR_START_TIMEOUT');
    }),
  );

  it('hosted process: the timed-out host is gone before failed_start; the next start gets a new process', T, () =>
    withMaster(async ({ master, events }) => {
      const log = path.join(scratch.dir, `host-${++logs}.log`);
      master.addWorker(stubborn('h', 'process', log));
      const failed = restartOnFailedStart(master, 'h', log);
      await assert.rejects(master.startWorker('h'), { code: 'HSU_ERR_START_TIMEOUT' });
      const { logAtFailure, aliveAtFailure, second } = await failed;
      const firstPid = pidOf(logAtFailure, 1);
      assert.ok(firstPid > 0, `the first host never began: ${logAtFailure.join('\n')}`);
      assert.deepEqual(aliveAtFailure, [], 'the abandoned host was still alive when failed_start was reported');
      await second;
      assert.notEqual(pidOf(logLines(log), 2), firstPid);
      assert.deepEqual(events.transitions('h'), ['idle->starting', 'starting->failed_start', 'failed_start->starting', 'starting->running']);
    }),
  );
});
