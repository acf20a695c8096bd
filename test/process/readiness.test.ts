// readiness honours its thresholds and delay as health_check does: success_threshold consecutive
// passes before `running` (a failure resets the count), initial_delay before the first attempt,
// and failure_threshold consecutive failures fail the start at once (unset: retried until
// start_timeout). Real probes: an integrated HTTP server on loopback, and exec probes whose every
// attempt appends a line to a file, so the file counts the attempts. Outcomes only, no durations.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { WorkerConfigInput } from '../../src/index.js';
import { diagnostics, nodeWorker, rejectsWithCode, waitForMarkerGone, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { ownCgroups, processFixture } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

/** An exec readiness probe that records each attempt in `file`, then exits by `verdict` (shell, $n = attempt number). */
function countingProbe(file: string, verdict: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'exec', command: ['/bin/sh', '-c', `echo x >> '${file}'; n=$(wc -l < '${file}'); ${verdict}`], interval: '50ms', timeout: '5s', ...extra };
}

function attempts(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
}

function forever(t: TestMaster, readiness: Record<string, unknown>, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return nodeWorker(t, 'w', 'forever.mjs', [], { readiness, restart: { policy: 'never' }, ...extra });
}

void describe('readiness thresholds', () => {
  void it('success_threshold: running only after that many consecutive passes (an integrated HTTP server counts them)', () =>
    withMaster(async (t) => {
      t.master.addWorker({
        id: 'api',
        type: 'process',
        management: 'integrated',
        start_timeout: '20s',
        execution: { executable_path: process.execPath, args: [processFixture('http-server.mjs')], environment: { HSU_TEST_MARKER: t.marker } },
        readiness: { type: 'http', url: 'http://127.0.0.1:{port}/ready', interval: '50ms', timeout: '2s', success_threshold: 3 },
      } as WorkerConfigInput);
      await t.master.startWorker('api');
      const port = diagnostics(t.master, 'api').details.port as number;
      // The readiness loop stopped at the third pass; /hits is not a /ready request.
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/hits`)).text(), '3');
    }));

  void it('success_threshold: a failed attempt in between starts the count again', () =>
    withMaster(async (t) => {
      const file = path.join(t.dir, 'attempts');
      // pass, fail, pass, pass: two consecutive passes only at the fourth attempt.
      t.master.addWorker(forever(t, countingProbe(file, '[ "$n" -ne 2 ]', { success_threshold: 2 }), { start_timeout: '20s' }));
      await t.master.startWorker('w');
      assert.equal(attempts(file), 4);
    }));

  void it('initial_delay: no attempt is made before it; a delay past start_timeout fails the start unprobed', () =>
    withMaster(async (t) => {
      const file = path.join(t.dir, 'attempts');
      t.master.addWorker(forever(t, countingProbe(file, 'exit 0', { initial_delay: '1h' }), { start_timeout: '1s' }));
      await rejectsWithCode(t.master.startWorker('w'), 'HSU_ERR_START_TIMEOUT');
      assert.equal(attempts(file), 0, 'the probe ran before its initial_delay');
      assert.equal(t.master.getWorkerState('w'), 'failed_start');
      assert.deepEqual(await waitForMarkerGone(t.marker), []);
    }));

  void it('failure_threshold: that many consecutive failures fail the start at once with START_FAILED, long before start_timeout', { timeout: 90_000 }, () =>
    withMaster(async (t) => {
      const file = path.join(t.dir, 'attempts');
      t.master.addWorker(forever(t, countingProbe(file, 'exit 1', { failure_threshold: 3 }), { start_timeout: '60s' }));
      const error = await rejectsWithCode(t.master.startWorker('w'), 'HSU_ERR_START_FAILED');
      assert.equal(error.context.consecutive_failures, 3);
      assert.equal(attempts(file), 3);
      assert.equal(t.master.getWorkerState('w'), 'failed_start');
      assert.deepEqual(await waitForMarkerGone(t.marker), [], 'the process of a failed start is ended');
    }));

  void it('failure_threshold: fewer consecutive failures than it are tolerated; the next pass makes the worker running', () =>
    withMaster(async (t) => {
      const file = path.join(t.dir, 'attempts');
      t.master.addWorker(forever(t, countingProbe(file, '[ "$n" -gt 2 ]', { failure_threshold: 3 }), { start_timeout: '20s' }));
      await t.master.startWorker('w');
      assert.equal(attempts(file), 3);
      assert.equal(t.master.getWorkerState('w'), 'running');
    }));

  void it('without failure_threshold, failed attempts are retried until start_timeout (START_TIMEOUT naming the last reason)', () =>
    withMaster(async (t) => {
      const file = path.join(t.dir, 'attempts');
      t.master.addWorker(forever(t, countingProbe(file, 'exit 1'), { start_timeout: '1s' }));
      const error = await rejectsWithCode(t.master.startWorker('w'), 'HSU_ERR_START_TIMEOUT');
      assert.equal(typeof error.context.readiness, 'string');
      assert.ok(attempts(file) >= 1);
    }));
});
