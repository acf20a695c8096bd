// Bad input and faults through the Master: every broken worker ends in failed_start with a coded
// error in diagnostics, the master keeps working and other workers are untouched. Plus the coded
// errors of the worker table itself.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { defineModule, type WorkerConfigInput } from '../src/index.js';
import {
  alivePids,
  diagnostics,
  nodeWorker,
  openFilesUnder,
  plugin,
  pluginWorker,
  rejectsWithCode,
  tempDir,
  throwsWithCode,
  withMaster,
  type TestMaster,
} from './helpers/master-helpers.js';

const T = { timeout: 30_000 };
const scratch = tempDir('faults');
after(() => scratch.remove());

const notExecutable = path.join(scratch.dir, 'plain-file.sh');
writeFileSync(notExecutable, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
const syntaxError = path.join(scratch.dir, 'syntax-error.mjs');
// Written at test time: a broken file in the repo would break the linter too.
writeFileSync(syntaxError, 'export default () => ({ info: { name: "broken", version: "1" }, start() { return ; ) } });\n');
const aDirectory = path.join(scratch.dir, 'a-directory');
mkdirSync(aDirectory);

interface FaultCase {
  readonly name: string;
  readonly code: string;
  readonly worker: (t: TestMaster) => WorkerConfigInput;
  readonly check?: (d: ReturnType<typeof diagnostics>) => void;
}

const process_ = (t: TestMaster, execution: Record<string, unknown>): WorkerConfigInput =>
  ({ id: 'broken', type: 'process', execution: { environment: { HSU_TEST_MARKER: t.marker }, ...execution } }) as unknown as WorkerConfigInput;

const CASES: FaultCase[] = [
  {
    name: 'missing executable (path)',
    code: 'HSU_ERR_EXECUTABLE_NOT_FOUND',
    worker: (t) => process_(t, { executable_path: path.join(scratch.dir, 'no-such-binary') }),
    check: (d) => assert.equal(d.details.executable_exists, false),
  },
  {
    name: 'missing executable (bare name, PATH lookup)',
    code: 'HSU_ERR_EXECUTABLE_NOT_FOUND',
    worker: (t) => process_(t, { executable_path: 'hsu-no-such-command-anywhere' }),
  },
  {
    name: 'file without execute permission (0644)',
    code: 'HSU_ERR_EXECUTABLE_NOT_EXECUTABLE',
    worker: (t) => process_(t, { executable_path: notExecutable }),
    check: (d) => assert.equal(d.details.executable_exists, true),
  },
  {
    name: 'a directory as executable',
    code: 'HSU_ERR_EXECUTABLE_NOT_EXECUTABLE',
    worker: (t) => process_(t, { executable_path: aDirectory }),
  },
  {
    name: 'missing working directory',
    code: 'HSU_ERR_WORKING_DIRECTORY_NOT_FOUND',
    worker: (t) => process_(t, { executable_path: process.execPath, working_directory: path.join(scratch.dir, 'nowhere') }),
  },
  { name: 'missing plugin file', code: 'HSU_ERR_MODULE_FILE_NOT_FOUND', worker: () => pluginWorker('broken', 'does-not-exist.mjs') },
  {
    name: 'plugin without the named export',
    code: 'HSU_ERR_MODULE_EXPORT_NOT_FOUND',
    worker: () => ({ id: 'broken', type: 'module', module: { module_type: 'plugin', module_path: plugin('ok.mjs'), entry_point: 'nope' } }),
  },
  { name: 'plugin without a default export', code: 'HSU_ERR_MODULE_EXPORT_NOT_FOUND', worker: () => pluginWorker('broken', 'no-default-export.mjs') },
  { name: 'factory that throws', code: 'HSU_ERR_MODULE_FACTORY_THREW', worker: () => pluginWorker('broken', 'factory-throws.mjs') },
  { name: 'export that is not a module', code: 'HSU_ERR_MODULE_INVALID', worker: () => pluginWorker('broken', 'not-a-module.mjs') },
  {
    name: 'plugin with a syntax error',
    code: 'HSU_ERR_MODULE_LOAD_FAILED',
    worker: () => ({ id: 'broken', type: 'module', module: { module_type: 'plugin', module_path: syntaxError } }),
  },
  {
    name: 'native factory never registered',
    code: 'HSU_ERR_MODULE_FACTORY_NOT_FOUND',
    worker: () => ({ id: 'broken', type: 'module', module: { module_type: 'native', module_name: 'never-registered' } }),
  },
  {
    name: 'native module whose initialize() throws',
    code: 'HSU_ERR_MODULE_INIT_FAILED',
    worker: () => ({ id: 'broken', type: 'module', module: { module_type: 'native', module_name: 'bad-init' } }),
  },
];

/** Polls /proc-backed conditions for a bounded while. */
async function waitFor(condition: () => boolean, message: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    assert.ok(Date.now() < deadline, message);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const badInit = () =>
  defineModule({
    info: { name: 'bad-init', version: '1.0.0' },
    initialize() {
      throw new Error('cannot initialize');
    },
    start() {},
  });

void describe('a broken worker fails to start with a coded error; the master and other workers carry on', () => {
  for (const fault of CASES) {
    it(fault.name, T, () =>
      withMaster(async (t) => {
        const { master, events } = t;
        master.registerNativeModuleFactory('bad-init', badInit);
        master.addWorker(nodeWorker(t, 'bystander', 'forever.mjs'));
        await master.startWorker('bystander');
        const pid = diagnostics(master, 'bystander').pid;

        master.addWorker(fault.worker(t));
        await rejectsWithCode(master.startWorker('broken'), fault.code);
        const d = diagnostics(master, 'broken');
        assert.equal(d.state, 'failed_start');
        assert.equal(d.last_error?.code, fault.code);
        assert.ok(d.last_error !== null && d.last_error.message.length > 0 && Number.isFinite(Date.parse(d.last_error.at)));
        fault.check?.(d);
        assert.equal(events.states.filter((e) => e.worker_id === 'broken' && e.to === 'failed_start').at(-1)?.error?.code, fault.code);

        // Other workers untouched, and the master still does its job.
        assert.equal(master.getWorkerState('bystander'), 'running');
        assert.equal(diagnostics(master, 'bystander').pid, pid);
        assert.deepEqual(alivePids([pid as number]), [pid]);
        assert.ok(!events.states.some((e) => e.worker_id === 'bystander' && e.to !== 'starting' && e.to !== 'running'));
        master.addWorker(pluginWorker('after', 'ok.mjs'));
        await master.startWorker('after');
        assert.equal(master.getWorkerState('after'), 'running');
        // A failed_start worker can be retried (and fails the same way) or removed.
        await rejectsWithCode(master.startWorker('broken'), fault.code);
        await master.removeWorker('broken');
        assert.deepEqual(master.listWorkers(), ['bystander', 'after']);
      }),
    );
  }

  it('master.start() reports the failure and starts the workers after it', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(pluginWorker('one', 'ok.mjs'));
      master.addWorker(pluginWorker('broken', 'factory-throws.mjs'));
      master.addWorker(nodeWorker(t, 'three', 'forever.mjs'));
      const results = await master.start();
      assert.deepEqual(
        results.map((r) => [r.id, r.ok, r.error?.code]),
        [
          ['one', true, undefined],
          ['broken', false, 'HSU_ERR_MODULE_FACTORY_THREW'],
          ['three', true, undefined],
        ],
      );
      assert.deepEqual(
        master.listWorkers().map((id) => master.getWorkerState(id)),
        ['running', 'failed_start', 'running'],
      );
    }),
  );

  it('a restart attempt that cannot launch counts as a failure and backs off to failed', T, () =>
    withMaster(async (t) => {
      const { master, events } = t;
      const script = path.join(t.dir, 'vanishing.sh');
      writeFileSync(script, '#!/bin/sh\nsleep 0.2\nexit 1\n', { mode: 0o755 });
      chmodSync(script, 0o755);
      const restart = { backoff: { initial: '20ms', max: '50ms' }, intensity: { max_restarts: 2, window: '10s' } };
      master.addWorker({ id: 'vanish', type: 'process', restart, execution: { executable_path: script, environment: { HSU_TEST_MARKER: t.marker } } });
      await master.startWorker('vanish');
      rmSync(script);
      const failed = await events.state('vanish', 'failed');
      assert.equal(failed.error?.code, 'HSU_ERR_EXECUTABLE_NOT_FOUND');
      assert.deepEqual(events.transitions('vanish'), [
        'idle->starting',
        'starting->running',
        'running->waiting_restart',
        'waiting_restart->starting',
        'starting->failed_start',
        'failed_start->waiting_restart',
        'waiting_restart->starting',
        'starting->failed_start',
        'failed_start->failed',
      ]);
      assert.equal(diagnostics(master, 'vanish').last_error?.code, 'HSU_ERR_EXECUTABLE_NOT_FOUND');
    }),
  );
});

void describe('the worker table refuses bad operations with coded errors', () => {
  it('duplicate id -> HSU_ERR_WORKER_EXISTS, the first worker untouched', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('dup', 'ok.mjs'));
      await master.startWorker('dup');
      const instance = await master.call('dup', 'instance');
      throwsWithCode(() => master.addWorker(pluginWorker('dup', 'unhealthy.mjs')), 'HSU_ERR_WORKER_EXISTS');
      assert.equal(master.getWorkerState('dup'), 'running');
      assert.equal(await master.call('dup', 'instance'), instance);
      assert.deepEqual(master.listWorkers(), ['dup']);
    }),
  );

  it('bad ids and invalid configs -> HSU_ERR_CONFIG_INVALID, nothing added', T, () =>
    withMaster(async ({ master }) => {
      for (const id of ['', 'has space', 'x'.repeat(65), 'dot.ted', 'ünï', 'slash/id']) {
        throwsWithCode(() => master.addWorker(pluginWorker(id, 'ok.mjs')), 'HSU_ERR_CONFIG_INVALID');
      }
      throwsWithCode(() => master.addWorker({ ...pluginWorker('extra', 'ok.mjs'), surprise: true } as unknown as WorkerConfigInput), 'HSU_ERR_CONFIG_INVALID');
      throwsWithCode(() => master.addWorker({ id: 'noexec', type: 'process' } as unknown as WorkerConfigInput), 'HSU_ERR_CONFIG_INVALID');
      assert.deepEqual(master.listWorkers(), []);
      master.addWorker(pluginWorker('A-z_0-9'.padEnd(64, 'x'), 'ok.mjs')); // 64 characters is fine
      assert.equal(master.listWorkers().length, 1);
    }),
  );

  it('removing a running worker -> HSU_ERR_WORKER_RUNNING; once stopped it can be removed and re-added', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(nodeWorker(t, 'busy', 'forever.mjs'));
      await master.startWorker('busy');
      const error = await rejectsWithCode(master.removeWorker('busy'), 'HSU_ERR_WORKER_RUNNING');
      assert.equal(error.context.state, 'running');
      assert.equal(master.getWorkerState('busy'), 'running');
      // Opening a write stream completes on a later tick, so does closing it: poll both ways.
      await waitFor(() => openFilesUnder(t.dir).length === 2, 'the stdout and stderr log files are not open while it runs');
      await master.stopWorker('busy');
      await master.removeWorker('busy');
      assert.deepEqual(master.listWorkers(), []);
      await waitFor(() => openFilesUnder(t.dir).length === 0, 'the removed worker still holds its log files open');
      master.addWorker(nodeWorker(t, 'busy', 'forever.mjs'));
      assert.equal(master.getWorkerState('busy'), 'idle');
      await master.startWorker('busy');
      await master.shutdown();
      await waitFor(() => openFilesUnder(t.dir).length === 0, 'log files still open after shutdown');
    }),
  );

  it('operations on an unknown worker -> HSU_ERR_WORKER_NOT_FOUND', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('known', 'ok.mjs'));
      await rejectsWithCode(Promise.resolve().then(() => master.startWorker('ghost')), 'HSU_ERR_WORKER_NOT_FOUND');
      await rejectsWithCode(Promise.resolve().then(() => master.stopWorker('ghost')), 'HSU_ERR_WORKER_NOT_FOUND');
      await rejectsWithCode(Promise.resolve().then(() => master.restartWorker('ghost')), 'HSU_ERR_WORKER_NOT_FOUND');
      await rejectsWithCode(Promise.resolve().then(() => master.getWorkerHealth('ghost')), 'HSU_ERR_WORKER_NOT_FOUND');
      await rejectsWithCode(master.call('ghost', 'instance'), 'HSU_ERR_WORKER_NOT_FOUND');
      await rejectsWithCode(master.removeWorker('ghost'), 'HSU_ERR_WORKER_NOT_FOUND');
      throwsWithCode(() => master.getWorkerState('ghost'), 'HSU_ERR_WORKER_NOT_FOUND');
      throwsWithCode(() => master.getWorkerStateWithDiagnostics('ghost'), 'HSU_ERR_WORKER_NOT_FOUND');
      assert.equal(master.getWorkerState('known'), 'idle');
    }),
  );

  it('operations in the wrong state -> HSU_ERR_ILLEGAL_TRANSITION, state unchanged', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('w', 'ok.mjs'));
      const idle = await rejectsWithCode(Promise.resolve().then(() => master.stopWorker('w')), 'HSU_ERR_ILLEGAL_TRANSITION');
      assert.deepEqual(idle.context.allowed, ['starting', 'running', 'waiting_restart']);
      assert.equal(master.getWorkerState('w'), 'idle');
      await master.startWorker('w');
      await rejectsWithCode(Promise.resolve().then(() => master.startWorker('w')), 'HSU_ERR_ILLEGAL_TRANSITION');
      await master.stopWorker('w');
      await rejectsWithCode(Promise.resolve().then(() => master.stopWorker('w')), 'HSU_ERR_ILLEGAL_TRANSITION');
      assert.equal(master.getWorkerState('w'), 'stopped');
      assert.deepEqual(events.transitions('w'), ['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
    }),
  );

  it('registering a native factory twice -> HSU_ERR_MODULE_FACTORY_EXISTS', T, () =>
    withMaster(async ({ master }) => {
      master.registerNativeModuleFactory('twice', badInit);
      throwsWithCode(() => master.registerNativeModuleFactory('twice', badInit), 'HSU_ERR_MODULE_FACTORY_EXISTS');
    }),
  );

  it('calls: not running, plain process, unknown action -> coded errors', T, () =>
    withMaster(async (t) => {
      const { master } = t;
      master.addWorker(pluginWorker('mod', 'ok.mjs'));
      master.addWorker(nodeWorker(t, 'proc', 'forever.mjs'));
      await rejectsWithCode(master.call('mod', 'instance'), 'HSU_ERR_CALL_NOT_RUNNING');
      await master.start();
      await rejectsWithCode(master.call('proc', 'anything'), 'HSU_ERR_CALL_UNSUPPORTED');
      await rejectsWithCode(master.call('mod', 'no-such-action'), 'HSU_ERR_ACTION_NOT_FOUND');
      assert.deepEqual(await master.call('mod', 'echo', { a: 1 }), { echo: { a: 1 } });
    }),
  );
});
