// Unmanaged workers: processes the test starts itself, outside the master, found by pid file,
// process name, command-line pattern or listening port. The master never starts them, watches
// them (diagnostics, health, resources), re-attaches when their owner restarts them, stops them
// only when allowed (with the worker's stop_signal), and leaves them running at shutdown.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { WorkerConfigInput } from '../../src/index.js';
import { alivePids, diagnostics, rejectsWithCode, waitForGone, waitForSample, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { freePort, killOutside, ownCgroups, sleep, startOutside, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

let serial = 0;
/** A marker for the processes a test starts outside the master (not the master's own marker). */
function outsideMarker(): string {
  return `outside-${process.pid}-${++serial}`;
}

function unmanaged(id: string, how: Record<string, unknown>, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return { id, type: 'process', management: 'unmanaged', start_timeout: '10s', unmanaged: { attach_interval: '100ms', ...how }, ...extra } as WorkerConfigInput;
}

/** Runs `body` with a marker for outside processes, killing all of them afterwards. */
async function withOutside(body: (marker: string) => Promise<void>): Promise<void> {
  const marker = outsideMarker();
  try {
    await body(marker);
  } finally {
    await killOutside(marker);
  }
}

function lastProblem(t: TestMaster, id: string): { code: string; message: string; context?: Record<string, unknown> } | null {
  return diagnostics(t.master, id).details.last_problem as { code: string; message: string } | null;
}

void describe('unmanaged: attach by each discovery method', () => {
  void it('pid_file: waits for the file, attaches to the process it names, never starts anything itself', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const pidFile = path.join(t.dir, 'svc.pid');
        t.master.addWorker(unmanaged('svc', { pid_file: pidFile }, { health_check: { type: 'runtime', interval: '100ms', timeout: '1s' } }));
        const attached = t.master.startWorker('svc');
        // Nothing to attach to yet: the worker keeps looking and says why; nothing was started for it.
        await until('the missing pid file reported', () => (lastProblem(t, 'svc')?.code === 'HSU_ERR_DISCOVERY_PID_FILE_MISSING' ? true : undefined));
        assert.equal(t.master.getWorkerState('svc'), 'starting');
        const svc = startOutside(marker, 'service.mjs', ['--pid-file', pidFile]);
        await svc.ready;
        await attached;
        const d = diagnostics(t.master, 'svc');
        assert.equal(d.state, 'running');
        assert.equal(d.pid, svc.pid);
        assert.equal(d.runtime, 'unmanaged');
        assert.equal(d.details.attached, true);
        assert.equal(lastProblem(t, 'svc'), null);
        assert.ok((d.details.cmdline as string[]).some((arg) => arg.endsWith('service.mjs')));
        // Health and resources of a process that is not the master's child.
        await t.events.waitFor('healthy', () => t.events.health.find((e) => e.worker_id === 'svc' && e.status === 'healthy'));
        const sample = await waitForSample(t.master, 'svc');
        assert.ok((sample.rss_bytes ?? 0) > 10 * 1024 * 1024);
        assert.ok((sample.threads ?? 0) >= 1);
      }),
    ));

  void it('process_name: attaches to the program by its name', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        // A uniquely named program: /bin/sleep under a name of our own (comm is the name it was exec'd as).
        const name = `hsuum${process.pid % 100_000}`;
        const program = path.join(t.dir, name);
        symlinkSync('/bin/sleep', program);
        const target = startOutside(marker, '', ['1000'], program);
        await until('the program running', () => (alivePids([target.pid]).length === 1 ? true : undefined));
        await sleep(50); // let it exec
        t.master.addWorker(unmanaged('byname', { process_name: name }));
        await t.master.startWorker('byname');
        const d = diagnostics(t.master, 'byname');
        assert.equal(d.pid, target.pid);
        assert.equal(d.details.comm, name);
      }),
    ));

  void it('command_pattern: attaches to the process whose command line matches', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const tag = `pattern-${process.pid}-${Date.now()}`;
        const decoy = startOutside(marker, 'service.mjs', ['--tag', `${tag}-other`]);
        const target = startOutside(marker, 'service.mjs', ['--tag', tag]);
        await Promise.all([decoy.ready, target.ready]);
        t.master.addWorker(unmanaged('bypattern', { command_pattern: `service\\.mjs --tag ${tag}$` }));
        await t.master.startWorker('bypattern');
        assert.equal(diagnostics(t.master, 'bypattern').pid, target.pid);
      }),
    ));

  void it('port: attaches to the process listening on it; the endpoint and a tcp probe use that port', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const port = await freePort();
        const target = startOutside(marker, 'service.mjs', ['--port', String(port)]);
        await target.ready;
        t.master.addWorker(unmanaged('byport', { port }, { health_check: { type: 'tcp', port, interval: '100ms', timeout: '1s' } }));
        await t.master.startWorker('byport');
        const d = t.master.getWorkerStateWithDiagnostics('byport');
        assert.equal(d.pid, target.pid);
        assert.equal(d.endpoint?.address, `http://127.0.0.1:${port}`);
        await t.events.waitFor('healthy', () => t.events.health.find((e) => e.worker_id === 'byport' && e.status === 'healthy'));
      }),
    ));
});

void describe('unmanaged: port discovery on every address family', () => {
  void it('port: finds a server listening on all addresses (an IPv6 dual-stack socket, /proc/net/tcp6)', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const port = await freePort();
        const target = startOutside(marker, 'service.mjs', ['--port', String(port), '--host', '::']);
        await target.ready;
        t.master.addWorker(unmanaged('dual', { port }));
        await t.master.startWorker('dual');
        assert.equal(diagnostics(t.master, 'dual').pid, target.pid);
      }),
    ));
});

void describe('unmanaged: re-attach, stop and shutdown', () => {
  void it('re-attaches when the owner restarts the process: new pid, waiting_restart -> starting -> running', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const pidFile = path.join(t.dir, 'svc.pid');
        const first = startOutside(marker, 'service.mjs', ['--pid-file', pidFile]);
        await first.ready;
        t.master.addWorker(unmanaged('svc', { pid_file: pidFile }, { restart: { policy: 'always', backoff: { initial: '50ms', max: '50ms', jitter: 0 } } }));
        await t.master.startWorker('svc');
        assert.equal(diagnostics(t.master, 'svc').pid, first.pid);
        // The owner restarts it: kill, then a new process writes the same pid file.
        process.kill(first.pid, 'SIGKILL');
        await waitForGone([first.pid]);
        await t.events.state('svc', 'waiting_restart');
        const second = startOutside(marker, 'service.mjs', ['--pid-file', pidFile]);
        await second.ready;
        await t.events.state('svc', 'running', 2);
        assert.equal(diagnostics(t.master, 'svc').pid, second.pid);
        assert.notEqual(second.pid, first.pid);
        assert.deepEqual(t.events.transitions('svc'), ['idle->starting', 'starting->running', 'running->waiting_restart', 'waiting_restart->starting', 'starting->running']);
        const exit = t.events.exits.find((e) => e.worker_id === 'svc');
        assert.equal(exit?.exit.error?.code, 'HSU_ERR_WORKER_CRASHED');
      }),
    ));

  void it('allow_stop false: stopWorker rejects STOP_NOT_ALLOWED and the process lives on', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const signals = path.join(t.dir, 'signals');
        const svc = startOutside(marker, 'service.mjs', ['--tag', `nostop-${process.pid}`, '--signals', signals]);
        await svc.ready;
        t.master.addWorker(unmanaged('svc', { command_pattern: `--tag nostop-${process.pid}` }));
        await t.master.startWorker('svc');
        await rejectsWithCode(t.master.stopWorker('svc'), 'HSU_ERR_STOP_NOT_ALLOWED');
        assert.equal(t.master.getWorkerState('svc'), 'running');
        assert.deepEqual(alivePids([svc.pid]), [svc.pid]);
        assert.equal(existsSync(signals), false, 'no signal was sent');
        // Shutdown lets go of it: still running afterwards, never signalled.
        await t.master.shutdown();
        assert.deepEqual(alivePids([svc.pid]), [svc.pid]);
        assert.equal(existsSync(signals), false);
      }),
    ));

  void it("allow_stop true: stopped with the worker's stop_signal", () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const signals = path.join(t.dir, 'signals');
        const svc = startOutside(marker, 'service.mjs', ['--tag', `stop-${process.pid}`, '--signals', signals]);
        await svc.ready;
        t.master.addWorker(unmanaged('svc', { command_pattern: `--tag stop-${process.pid}`, allow_stop: true }, { stop_signal: 'SIGUSR2' }));
        await t.master.startWorker('svc');
        await t.master.stopWorker('svc');
        assert.deepEqual(await waitForGone([svc.pid]), []);
        assert.equal(readFileSync(signals, 'utf8'), 'SIGUSR2\n');
        assert.equal(t.master.getWorkerState('svc'), 'stopped');
      }),
    ));

  void it('master shutdown leaves an allow_stop worker running, unless stop_on_shutdown', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const kept = startOutside(marker, 'service.mjs', ['--tag', `kept-${process.pid}`, '--signals', path.join(t.dir, 'kept')]);
        const stopped = startOutside(marker, 'service.mjs', ['--tag', `gone-${process.pid}`, '--signals', path.join(t.dir, 'gone')]);
        await Promise.all([kept.ready, stopped.ready]);
        t.master.addWorker(unmanaged('kept', { command_pattern: `--tag kept-${process.pid}`, allow_stop: true }));
        t.master.addWorker(unmanaged('gone', { command_pattern: `--tag gone-${process.pid}`, allow_stop: true, stop_on_shutdown: true }, { stop_signal: 'SIGHUP' }));
        await t.master.start();
        await t.master.shutdown();
        assert.deepEqual(alivePids([kept.pid]), [kept.pid]);
        assert.equal(existsSync(path.join(t.dir, 'kept')), false);
        assert.deepEqual(await waitForGone([stopped.pid]), []);
        assert.equal(readFileSync(path.join(t.dir, 'gone'), 'utf8'), 'SIGHUP\n');
      }),
    ));
});

void describe('unmanaged: nothing to attach to', () => {
  void it('a missing pid file, a dead pid, a port nobody listens on: START_TIMEOUT with the discovery problem in diagnostics; a sibling is undisturbed', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        const sibling = startOutside(marker, 'service.mjs', ['--tag', `sibling-${process.pid}`]);
        await sibling.ready;
        t.master.addWorker(unmanaged('sibling', { command_pattern: `--tag sibling-${process.pid}` }));
        await t.master.startWorker('sibling');
        const deadPidFile = path.join(t.dir, 'dead.pid');
        const dead = startOutside(marker, 'service.mjs', ['--pid-file', deadPidFile]);
        await dead.ready;
        process.kill(dead.pid, 'SIGKILL');
        await waitForGone([dead.pid]);
        const nobody = await freePort();
        const cases: [string, Record<string, unknown>, string][] = [
          ['missing', { pid_file: path.join(t.dir, 'none.pid') }, 'HSU_ERR_DISCOVERY_PID_FILE_MISSING'],
          ['dead', { pid_file: deadPidFile }, 'HSU_ERR_DISCOVERY_NOT_RUNNING'],
          ['noport', { port: nobody }, 'HSU_ERR_DISCOVERY_PORT_NOT_LISTENING'],
        ];
        for (const [id, how] of cases) t.master.addWorker(unmanaged(id, how, { start_timeout: '1s', restart: { policy: 'never' } }));
        for (const [id, , code] of cases) {
          const error = await rejectsWithCode(t.master.startWorker(id), 'HSU_ERR_START_TIMEOUT');
          assert.equal((error.context.problem as { code: string }).code, code, id);
          assert.equal(lastProblem(t, id)?.code, code, id);
          assert.equal(t.master.getWorkerState(id), 'failed_start');
        }
        assert.equal(diagnostics(t.master, 'sibling').pid, sibling.pid);
        assert.equal(t.master.getWorkerState('sibling'), 'running');
      }),
    ));

  void it('a recycled pid in a pid file is not taken for the worker', () =>
    withOutside((marker) =>
      withMaster(async (t) => {
        // The file names a live process that started well after the file was written: the pid was reused.
        const stranger = startOutside(marker, 'service.mjs', ['--tag', `stranger-${process.pid}`]);
        await stranger.ready;
        const pidFile = path.join(t.dir, 'old.pid');
        writeFileSync(pidFile, `${stranger.pid}\n`);
        const hourAgo = new Date(Date.now() - 3_600_000);
        utimesSync(pidFile, hourAgo, hourAgo);
        t.master.addWorker(unmanaged('old', { pid_file: pidFile, allow_stop: true }, { start_timeout: '1s', restart: { policy: 'never' } }));
        const error = await rejectsWithCode(t.master.startWorker('old'), 'HSU_ERR_START_TIMEOUT');
        const problem = error.context.problem as { code: string; context?: { reason?: string } };
        assert.equal(problem.code, 'HSU_ERR_DISCOVERY_NOT_RUNNING');
        assert.equal(problem.context?.reason, 'pid_reused');
        assert.equal(diagnostics(t.master, 'old').pid, null);
        assert.deepEqual(alivePids([stranger.pid]), [stranger.pid], 'the stranger is left alone');
      }),
    ));
});
