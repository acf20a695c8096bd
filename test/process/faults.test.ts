// Bad input and faults from the issue, all in one master next to a healthy sibling: a missing pid
// file, a pid that is not running, a port nobody listens on, an exec probe that hangs, a grpc
// server answering NOT_SERVING, limits on an inline module, a bad discovery pattern. Each ends in a
// coded error or a clear diagnostic for its own worker; the sibling keeps its pid throughout.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { WorkerConfigInput } from '../../src/index.js';
import { diagnostics, nodeWorker, pluginWorker, rejectsWithCode, throwsWithCode, waitForGone, withMaster } from '../helpers/master-helpers.js';
import { grpcHealthServer } from './servers.js';
import { freePort, killOutside, ownCgroups, pidsWithCmdline, startOutside, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

function unmanaged(id: string, how: Record<string, unknown>): WorkerConfigInput {
  return { id, type: 'process', management: 'unmanaged', start_timeout: '1s', restart: { policy: 'never' }, unmanaged: { attach_interval: '100ms', ...how } } as WorkerConfigInput;
}

void describe('faults next to a healthy sibling', () => {
  void it('each fault is a coded error or diagnostic of its own worker, and the sibling keeps its pid', async () => {
    const grpc = await grpcHealthServer({ '': 'NOT_SERVING' });
    const outside = `faults-${process.pid}`;
    try {
      await withMaster(async (t) => {
        t.master.addWorker(nodeWorker(t, 'sibling', '../os/fixtures/idle.mjs', [], { health_check: { type: 'runtime', interval: '100ms', timeout: '1s' } }));
        await t.master.startWorker('sibling');
        const sibling = diagnostics(t.master, 'sibling').pid;
        const siblingGroup = diagnostics(t.master, 'sibling').details.cgroup;

        // Refused at validation, nothing added, nothing disturbed.
        const inline = throwsWithCode(() => t.master.addWorker(pluginWorker('inline', 'ok.mjs', {}, { limits: { cpu: { max_percent: 50 } } })), 'HSU_ERR_CONFIG_INVALID');
        assert.match(inline.message, /limits are enforced on a process/);
        throwsWithCode(() => t.master.addWorker(unmanaged('badpattern', { command_pattern: '([unclosed' })), 'HSU_ERR_CONFIG_INVALID');

        // Discovery faults.
        const deadPidFile = path.join(t.dir, 'dead.pid');
        const dead = startOutside(outside, 'service.mjs', ['--pid-file', deadPidFile]);
        await dead.ready;
        process.kill(dead.pid, 'SIGKILL');
        await waitForGone([dead.pid]);
        t.master.addWorker(unmanaged('nopidfile', { pid_file: path.join(t.dir, 'missing.pid') }));
        t.master.addWorker(unmanaged('deadpid', { pid_file: deadPidFile }));
        t.master.addWorker(unmanaged('noport', { port: await freePort() }));

        // Probe faults: a hanging exec probe and a NOT_SERVING grpc server make only their own worker unhealthy.
        const tag = `555.${process.pid}`;
        const probe = { interval: '100ms', timeout: '300ms', failure_threshold: 2 };
        t.master.addWorker(nodeWorker(t, 'hang', '../os/fixtures/idle.mjs', [], { restart: { policy: 'never' }, health_check: { type: 'exec', command: `sleep ${tag}`, ...probe } }));
        t.master.addWorker(nodeWorker(t, 'notserving', '../os/fixtures/idle.mjs', [], { restart: { policy: 'never' }, health_check: { type: 'grpc', port: grpc.port, ...probe } }));

        const starts = await Promise.allSettled(['nopidfile', 'deadpid', 'noport', 'hang', 'notserving'].map((id) => t.master.startWorker(id)));
        assert.deepEqual(
          starts.map((s) => s.status),
          ['rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
        );
        for (const [id, code] of [
          ['nopidfile', 'HSU_ERR_DISCOVERY_PID_FILE_MISSING'],
          ['deadpid', 'HSU_ERR_DISCOVERY_NOT_RUNNING'],
          ['noport', 'HSU_ERR_DISCOVERY_PORT_NOT_LISTENING'],
        ] as const) {
          const d = diagnostics(t.master, id);
          assert.equal(d.state, 'failed_start', id);
          assert.equal(d.last_error?.code, 'HSU_ERR_START_TIMEOUT', id);
          assert.equal((d.details.last_problem as { code: string }).code, code, id);
        }
        await rejectsWithCode(t.master.startWorker('nopidfile'), 'HSU_ERR_START_TIMEOUT');

        for (const [id, reason] of [
          ['hang', /timed out after 300 ms/],
          ['notserving', /NOT_SERVING/],
        ] as const) {
          // restart: never, so an unhealthy worker ends failed, with the probe's reason on record.
          await t.events.state(id, 'failed');
          const d = diagnostics(t.master, id);
          assert.equal(d.last_error?.code, 'HSU_ERR_HEALTH_CHECK_FAILED', id);
          assert.match(t.events.health.find((e) => e.worker_id === id && e.status === 'unhealthy')?.reason ?? '', reason);
        }
        await until('no hanging probe left', () => pidsWithCmdline(`sleep ${tag}`).length === 0);

        const after = diagnostics(t.master, 'sibling');
        assert.equal(after.state, 'running');
        assert.equal(after.pid, sibling);
        assert.equal(after.details.cgroup, siblingGroup);
        assert.equal(after.restart_count, 0);
        assert.equal(after.health.status, 'healthy');
        assert.deepEqual(t.master.listWorkers().sort(), ['deadpid', 'hang', 'nopidfile', 'noport', 'notserving', 'sibling']);
      });
    } finally {
      await grpc.close();
      await killOutside(outside);
    }
  });
});
