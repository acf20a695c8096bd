// The launcher: user, group, umask and rlimits applied before exec, as the child itself sees them
// in /proc/self; an unknown user or group fails the start with a coded error and spawns nothing.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { diagnostics, nodeWorker, processesWithMarker, rejectsWithCode, withMaster } from '../helpers/master-helpers.js';
import { ownCgroups } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

interface Report {
  pid: number;
  umask: string;
  uid: string;
  gid: string;
  groups: string;
  nofile: { soft: string; hard: string };
  core: { soft: string; hard: string };
  cgroup: string;
}

const REPORT = '../os/fixtures/report.mjs';

void describe('launcher', () => {
  for (const cgroups of ['auto', 'off'] as const) {
    void it(`user nobody, group nogroup, umask 027, rlimits nofile 256 and core 0 are in force from the first instruction (cgroups: ${cgroups})`, () =>
      withMaster(
        async (t) => {
          t.master.addWorker(
            nodeWorker(t, 'jail', REPORT, [], {
              user: 'nobody',
              group: 'nogroup',
              umask: '027',
              rlimits: { nofile: 256, core: 0 },
              restart: { policy: 'never' },
              execution: { working_directory: '/tmp' },
            }),
          );
          await t.master.startWorker('jail');
          const line = await t.events.line('jail', (l) => l.startsWith('{'));
          const report = JSON.parse(line.line) as Report;
          assert.equal(report.pid, line.pid, 'exec kept the pid: the launcher became the program');
          assert.deepEqual(report.uid.split(/\s+/), ['65534', '65534', '65534', '65534']);
          assert.deepEqual(report.gid.split(/\s+/), ['65534', '65534', '65534', '65534']);
          assert.equal(report.umask, '0027');
          assert.deepEqual(report.nofile, { soft: '256', hard: '256' });
          assert.deepEqual(report.core, { soft: '0', hard: '0' });
          const group = diagnostics(t.master, 'jail').details.cgroup;
          if (cgroups === 'auto') assert.ok(report.cgroup.includes(String(group)), `joined its cgroup before exec: ${report.cgroup}`);
          else assert.equal(group, null);
          await t.events.state('jail', 'stopped');
          assert.equal(t.master.getWorkerStateWithDiagnostics('jail').last_exit?.exit_code, 0);
        },
        { cgroups },
      ));
  }

  void it('a numeric user and group are taken as ids, even without a passwd entry', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'ids', REPORT, [], { user: 54321, group: 54322, restart: { policy: 'never' }, execution: { working_directory: '/tmp' } }));
      await t.master.startWorker('ids');
      const report = JSON.parse((await t.events.line('ids', (l) => l.startsWith('{'))).line) as Report;
      assert.deepEqual(report.uid.split(/\s+/), ['54321', '54321', '54321', '54321']);
      assert.deepEqual(report.gid.split(/\s+/), ['54322', '54322', '54322', '54322']);
    }));

  void it('an unknown user fails the start with LAUNCH_UNKNOWN_USER, an unknown group with LAUNCH_UNKNOWN_GROUP; nothing is spawned', () =>
    withMaster(async (t) => {
      t.master.addWorker(nodeWorker(t, 'ghost', 'forever.mjs', [], { user: 'hsu-no-such-user', restart: { policy: 'never' } }));
      t.master.addWorker(nodeWorker(t, 'ghostgroup', 'forever.mjs', [], { group: 'hsu-no-such-group', restart: { policy: 'never' } }));
      t.master.addWorker(nodeWorker(t, 'sibling', 'forever.mjs'));
      await t.master.startWorker('sibling');
      const sibling = diagnostics(t.master, 'sibling').pid;
      const user = await rejectsWithCode(t.master.startWorker('ghost'), 'HSU_ERR_LAUNCH_UNKNOWN_USER');
      assert.match(user.message, /hsu-no-such-user/);
      await rejectsWithCode(t.master.startWorker('ghostgroup'), 'HSU_ERR_LAUNCH_UNKNOWN_GROUP');
      assert.equal(t.master.getWorkerState('ghost'), 'failed_start');
      assert.equal(t.master.getWorkerStateWithDiagnostics('ghost').last_error?.code, 'HSU_ERR_LAUNCH_UNKNOWN_USER');
      assert.deepEqual(processesWithMarker(t.marker), [sibling], 'only the sibling runs');
      assert.equal(diagnostics(t.master, 'sibling').pid, sibling);
    }));
});
