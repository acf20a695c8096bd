// wait_ready (PM2's): a Node child that announces readiness with process.send('ready') is running
// only after the message; one that never sends it times out; one that exits first fails with its exit.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { diagnostics, nodeWorker, rejectsWithCode, waitForMarkerGone, withMaster } from '../helpers/master-helpers.js';
import { ownCgroups } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

void describe('wait_ready', () => {
  void it("is running only after the child sent 'ready'", () =>
    withMaster(async (t) => {
      const sent = path.join(t.dir, 'sent');
      // The child writes the file just before it sends the message, 600 ms after it started.
      t.master.addWorker(nodeWorker(t, 'r', 'process/ready-ipc.mjs', ['ready', '600', sent], { wait_ready: true }));
      const starting = t.events.state('r', 'starting');
      let fileAtRunning: boolean | undefined;
      t.master.on('state', (e) => {
        if (e.worker_id === 'r' && e.to === 'running') fileAtRunning = existsSync(sent);
      });
      await t.master.startWorker('r');
      await starting;
      assert.equal(fileAtRunning, true, "running must come after the child's message");
      assert.equal(diagnostics(t.master, 'r').state, 'running');
    }));

  void it('a child that never sends it fails the start with START_TIMEOUT, and is ended', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'mute', 'process/ready-ipc.mjs', ['never'], { wait_ready: true, start_timeout: '1s', restart: { policy: 'never' } }));
      await rejectsWithCode(t.master.startWorker('mute'), 'HSU_ERR_START_TIMEOUT');
      assert.equal(t.master.getWorkerState('mute'), 'failed_start');
      assert.deepEqual(await waitForMarkerGone(t.marker), []);
    }));

  void it('a child that exits before sending it fails the start with that exit', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'quitter', 'process/ready-ipc.mjs', ['exit', '100'], { wait_ready: true, start_timeout: '10s', restart: { policy: 'never' } }));
      const error = await rejectsWithCode(t.master.startWorker('quitter'), 'HSU_ERR_WORKER_CRASHED');
      assert.equal(error.context.exit_code, 3);
      assert.equal(t.master.getWorkerState('quitter'), 'failed_start');
      assert.equal(t.master.getWorkerStateWithDiagnostics('quitter').last_error?.code, 'HSU_ERR_WORKER_CRASHED');
    }));
});
