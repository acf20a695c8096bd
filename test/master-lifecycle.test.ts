// Modules under the Master: the one lifecycle for native factories and plugin files, diagnostics,
// start failures and timeouts, fatal reports after start, and health.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineModule } from '../src/index.js';
import { diagnostics, plugin, pluginWorker, rejectsWithCode, withMaster } from './helpers/master-helpers.js';

const T = { timeout: 30_000 };

interface SlowStart {
  stats: { begun: number; completed: number; aborted: number; stops: number };
  pendingStarts: () => number;
}

/** The very module record the master imports (same URL), to see what became of each start(). */
async function slowStartStats(): Promise<SlowStart> {
  return (await import(pathToFileURL(plugin('slow-start.mjs')).href)) as SlowStart;
}

function runNode(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A native factory that records what happened to its instances. */
function nativeCounter(): { factory: () => ReturnType<typeof defineModule>; log: string[] } {
  const log: string[] = [];
  let n = 0;
  const factory = () => {
    const instance = ++n;
    return defineModule<{ greeting?: string }>({
      info: { name: 'native-counter', version: '0.9.0' },
      initialize(_ctx, config) {
        log.push(`init ${instance} ${config.greeting ?? ''}`);
      },
      start(ctx) {
        log.push(`start ${instance}`);
        ctx.signal.addEventListener('abort', () => log.push(`abort ${instance}`));
      },
      stop() {
        log.push(`stop ${instance}`);
      },
      isHealthy: () => true,
      actions: { instance: () => instance },
    });
  };
  return { factory, log };
}

void describe('module lifecycle', () => {
  it('runs a native factory idle -> starting -> running -> stopping -> stopped, events in order', T, () =>
    withMaster(async ({ master, events }) => {
      const { factory, log } = nativeCounter();
      master.registerNativeModuleFactory('counter', factory);
      master.addWorker({ id: 'nat', type: 'module', module: { module_type: 'native', module_name: 'counter', config: { greeting: 'hi' } } });
      assert.equal(master.getWorkerState('nat'), 'idle');
      await master.startWorker('nat');
      assert.equal(master.getWorkerState('nat'), 'running');
      assert.equal(await master.call('nat', 'instance'), 1);
      await master.stopWorker('nat');
      assert.equal(master.getWorkerState('nat'), 'stopped');
      assert.deepEqual(events.transitions('nat'), ['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
      assert.deepEqual(log, ['init 1 hi', 'start 1', 'abort 1', 'stop 1']);
      assert.equal(events.exits.length, 1);
      assert.equal(events.exits[0]?.exit.requested, true);
      assert.equal(events.states.every((e) => e.pid === null), true, 'inline modules have no pid');
      // Stopped can be started again, as a fresh instance.
      await master.startWorker('nat');
      assert.equal(await master.call('nat', 'instance'), 2);
    }),
  );

  it('runs a plugin file through the same lifecycle, with diagnostics', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('plug', 'ok.mjs', { answer: 42 }));
      const before = diagnostics(master, 'plug');
      assert.equal(before.state, 'idle');
      assert.equal(before.started_at, null);
      assert.equal(before.uptime_ms, null);
      assert.equal(before.last_error, null);
      assert.equal(before.restart_count, 0);
      assert.equal(before.enabled, true);
      await master.startWorker('plug');
      assert.deepEqual(await master.call('plug', 'config'), { answer: 42 });
      const d = diagnostics(master, 'plug');
      assert.equal(d.id, 'plug');
      assert.equal(d.type, 'module');
      assert.equal(d.runtime, 'inline');
      assert.equal(d.state, 'running');
      assert.equal(d.pid, null);
      assert.equal(d.last_error, null);
      assert.equal(d.restart_count, 0);
      assert.ok(d.started_at !== null && Number.isFinite(Date.parse(d.started_at)));
      assert.ok(d.uptime_ms !== null && d.uptime_ms >= 0);
      assert.deepEqual(d.details.module, { name: 'ok-plugin', version: '1.2.3', description: 'test plugin that behaves' });
      assert.ok(typeof d.details.load_time === 'string' && Number.isFinite(Date.parse(d.details.load_time)));
      assert.equal(d.health.status, 'unknown', 'no probe has run yet');
      assert.deepEqual(
        d.history.map((h) => `${h.from}->${h.to}`),
        ['idle->starting', 'starting->running'],
      );
      assert.ok(d.history.every((h) => Number.isFinite(Date.parse(h.at))));
      await master.stopWorker('plug');
      const after = diagnostics(master, 'plug');
      assert.equal(after.state, 'stopped');
      assert.equal(after.uptime_ms, null);
      assert.equal(after.last_exit?.requested, true);
      assert.deepEqual(events.transitions('plug'), ['idle->starting', 'starting->running', 'running->stopping', 'stopping->stopped']);
      assert.deepEqual(Object.keys(master.getAllWorkerStatesWithDiagnostics()), ['plug']);
    }),
  );

  it('loads the export named by entry_point', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker({ id: 'by-name', type: 'module', module: { module_type: 'plugin', module_path: plugin('ok.mjs'), entry_point: 'named' } });
      await master.startWorker('by-name');
      assert.equal(master.getWorkerState('by-name'), 'running');
      assert.equal(diagnostics(master, 'by-name').details.module?.name, 'ok-plugin');
    }),
  );

  it('a restart carries its reason into the stopping transition (a watch names the files)', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('why', 'ok.mjs'));
      await master.startWorker('why');
      await master.restartWorker('why', { reason: 'watch: src/why.ts changed' });
      await master.restartWorker('why');
      const stops = diagnostics(master, 'why').history.filter((h) => h.to === 'stopping').map((h) => h.reason);
      assert.deepEqual(stops, ['watch: src/why.ts changed', 'stop requested']);
      assert.equal(master.getWorkerState('why'), 'running');
    }),
  );

  it('keeps a bounded transition history', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('cycle', 'ok.mjs'));
      for (let i = 0; i < 14; i++) {
        await master.startWorker('cycle');
        await master.stopWorker('cycle');
      }
      const history = diagnostics(master, 'cycle').history;
      assert.equal(history.length, 50, '14 cycles make 56 transitions; only the last 50 are kept');
      assert.deepEqual(history.at(-1), { ...history.at(-1), from: 'stopping', to: 'stopped' });
      // The first 6 transitions (idle->starting ... stopped->starting->running) were dropped.
      assert.deepEqual([history[0]?.from, history[0]?.to], ['running', 'stopping']);
    }),
  );
});

void describe('module start failures', () => {
  it('a start() that throws ends in failed_start with the error kept, and can be started again', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('boom', 'throws-in-start.mjs', { fail_times: 1 }));
      const error = await rejectsWithCode(master.startWorker('boom'), 'HSU_ERR_START_FAILED');
      assert.equal(error.context.worker_id, 'boom');
      const d = diagnostics(master, 'boom');
      assert.equal(d.state, 'failed_start');
      assert.equal(d.last_error?.code, 'HSU_ERR_START_FAILED');
      assert.ok(d.last_error !== null && d.last_error.message.length > 0 && Number.isFinite(Date.parse(d.last_error.at)));
      assert.deepEqual(events.transitions('boom'), ['idle->starting', 'starting->failed_start']);
      assert.equal(events.states.at(-1)?.error?.code, 'HSU_ERR_START_FAILED');
      assert.equal(events.restarts.length, 0, 'a failed manual start is not restarted by policy');
      await master.startWorker('boom');
      assert.equal(master.getWorkerState('boom'), 'running');
      assert.equal(await master.call('boom', 'launch'), 2);
      assert.equal(diagnostics(master, 'boom').last_error?.code, 'HSU_ERR_START_FAILED', 'the last error stays for the record');
    }),
  );

  it('ctx.fail() during start fails the start itself with HSU_ERR_MODULE_FATAL', T, () =>
    withMaster(async ({ master }) => {
      master.registerNativeModuleFactory('early-fail', () =>
        defineModule({ info: { name: 'early-fail', version: '1.0.0' }, start: (ctx) => ctx.fail(new Error('not ready after all')) }),
      );
      master.addWorker({ id: 'early', type: 'module', module: { module_type: 'native', module_name: 'early-fail' } });
      await rejectsWithCode(master.startWorker('early'), 'HSU_ERR_MODULE_FATAL');
      assert.equal(diagnostics(master, 'early').state, 'failed_start');
    }),
  );

  it('a start() slower than start_timeout ends in failed_start with HSU_ERR_START_TIMEOUT', T, () =>
    withMaster(async ({ master }) => {
      const slow = await slowStartStats();
      const before = { ...slow.stats };
      master.addWorker(pluginWorker('slow', 'slow-start.mjs', { delay_ms: 60_000 }, { start_timeout: '200ms' }));
      await rejectsWithCode(master.startWorker('slow'), 'HSU_ERR_START_TIMEOUT');
      const d = diagnostics(master, 'slow');
      assert.equal(d.state, 'failed_start');
      assert.equal(d.last_error?.code, 'HSU_ERR_START_TIMEOUT');
      // The abandoned start was cut short through ctx.signal and stop() ran: nothing is left behind.
      assert.equal(slow.pendingStarts(), 0);
      assert.equal(slow.stats.aborted - before.aborted, 1);
      assert.equal(slow.stats.stops - before.stops, 1);
    }),
  );

  it('a stop while the module is still loading cancels the start: nothing runs afterwards', T, () =>
    withMaster(async ({ master, events }) => {
      const slow = await slowStartStats();
      const before = { ...slow.stats };
      master.addWorker(pluginWorker('slow', 'slow-start.mjs', { delay_ms: 60_000 }));
      const starting = master.startWorker('slow');
      starting.catch(() => undefined); // asserted below; it rejects while the stop runs
      // Synchronously after startWorker(): the state is starting and the plugin file is still being imported.
      await master.stopWorker('slow');
      await rejectsWithCode(starting, 'HSU_ERR_START_CANCELLED');
      assert.equal(master.getWorkerState('slow'), 'stopped');
      assert.deepEqual(events.transitions('slow'), ['idle->starting', 'starting->stopping', 'stopping->stopped']);
      // A later launch of the same file goes through the same steps: once it runs, the cancelled
      // launch would have reached start() too, had it not been dropped.
      master.addWorker(pluginWorker('probe', 'slow-start.mjs', { delay_ms: 0 }));
      await master.startWorker('probe');
      assert.equal(slow.stats.begun - before.begun, 1, 'the cancelled launch still called start()');
      assert.equal(slow.pendingStarts(), 0);
    }),
  );

  it('a stop while start() runs cancels it through ctx.signal: starting -> stopping -> stopped', T, () =>
    withMaster(async ({ master, events }) => {
      const slow = await slowStartStats();
      const before = { ...slow.stats };
      master.addWorker(pluginWorker('slow', 'slow-start.mjs', { delay_ms: 60_000 }));
      const starting = master.startWorker('slow');
      starting.catch(() => undefined); // asserted below; it rejects while the stop runs
      await waitUntil(() => slow.stats.begun > before.begun);
      await master.stopWorker('slow');
      await rejectsWithCode(starting, 'HSU_ERR_START_CANCELLED');
      assert.equal(master.getWorkerState('slow'), 'stopped');
      assert.deepEqual(events.transitions('slow'), ['idle->starting', 'starting->stopping', 'stopping->stopped']);
      assert.equal(slow.pendingStarts(), 0);
      assert.equal(slow.stats.aborted - before.aborted, 1);
    }),
  );
});

void describe('module faults after start', () => {
  it('ctx.fail() after start restarts the module by policy as a new instance', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('fatal', 'fails-after-start.mjs', { fail_times: 1, fail_after_ms: 50 }));
      await master.startWorker('fatal');
      assert.equal(await master.call('fatal', 'launch'), 1);
      await events.state('fatal', 'running', 2);
      assert.deepEqual(events.transitions('fatal'), ['idle->starting', 'starting->running', 'running->waiting_restart', 'waiting_restart->starting', 'starting->running']);
      assert.equal(await master.call('fatal', 'launch'), 2);
      assert.deepEqual(events.restarts, [{ worker_id: 'fatal', cause: 'policy', attempt: 1, delay_ms: 0 }]);
      assert.equal(events.exits[0]?.exit.requested, false);
      assert.equal(events.exits[0]?.exit.error?.code, 'HSU_ERR_MODULE_FATAL');
      const d = diagnostics(master, 'fatal');
      assert.equal(d.restart_count, 1);
      assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_FATAL');
    }),
  );

  it('a rejected ctx.run() task restarts the module by policy as a new instance', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('task', 'rejecting-task.mjs', { fail_times: 1, reject_after_ms: 50 }));
      await master.startWorker('task');
      await events.state('task', 'running', 2);
      assert.equal(await master.call('task', 'launch'), 2);
      assert.equal(events.restarts[0]?.cause, 'policy');
      assert.equal(diagnostics(master, 'task').last_error?.code, 'HSU_ERR_MODULE_FATAL');
    }),
  );

  it('policy never: a fatal error ends in failed, which can be started again', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('once', 'fails-after-start.mjs', { fail_times: 1, fail_after_ms: 50 }, { restart: { policy: 'never' } }));
      await master.startWorker('once');
      await events.state('once', 'failed');
      const d = diagnostics(master, 'once');
      assert.equal(d.state, 'failed');
      assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_FATAL');
      assert.equal(events.restarts.length, 0);
      await master.startWorker('once');
      assert.equal(master.getWorkerState('once'), 'running');
      assert.equal(await master.call('once', 'launch'), 2);
    }),
  );

  it('an inline module whose stop() hangs is reported stopped, forced, with HSU_ERR_STOP_TIMEOUT', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('hang', 'hang-stop.mjs', {}, { stop_timeout: '200ms' }));
      await master.startWorker('hang');
      await master.stopWorker('hang');
      const d = diagnostics(master, 'hang');
      assert.equal(d.state, 'stopped');
      assert.equal(d.last_exit?.forced, true);
      assert.equal(d.last_error?.code, 'HSU_ERR_STOP_TIMEOUT');
    }),
  );
});

void describe('forced stops', () => {
  it('a forced stop cuts short a graceful stop of an inline module that hangs', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('hang', 'hang-stop.mjs', {}, { stop_timeout: '60s' }));
      await master.startWorker('hang');
      const graceful = master.stopWorker('hang');
      assert.equal(master.getWorkerState('hang'), 'stopping');
      await master.stopWorker('hang', { force: true });
      await graceful;
      const d = diagnostics(master, 'hang');
      assert.equal(d.state, 'stopped');
      assert.equal(d.last_exit?.forced, true);
      assert.equal(d.last_error?.code, 'HSU_ERR_STOP_TIMEOUT');
    }),
  );
});

void describe('uncaught errors from inline modules', () => {
  const host = fileURLToPath(new URL('./helpers/uncaught-host.js', import.meta.url));

  it('are charged to the module that raised them (restart) and the master process survives', T, async () => {
    const { code, stdout, stderr } = await runNode([host]);
    assert.equal(code, 0, `the master process died: ${stderr}`);
    const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, { last_error: { code: string }; restart_count: number; launch: number; state: string }> & {
      bystander: { state: string; before: number; after: number };
      restarts: { worker_id: string; cause: string }[];
      transitions: Record<string, string[]>;
    };
    // thrower: a timer set in start() throws; rejecter: it leaves a rejection unhandled; actioner:
    // a timer set by an action call throws.
    for (const id of ['thrower', 'rejecter', 'actioner']) {
      const worker = report[id];
      assert.equal(worker?.last_error.code, 'HSU_ERR_MODULE_UNCAUGHT', id);
      assert.equal(worker.restart_count, 1, id);
      assert.equal(worker.launch, 2, `${id} runs a new instance`);
      assert.deepEqual(report.transitions[id], ['idle->starting', 'starting->running', 'running->waiting_restart', 'waiting_restart->starting', 'starting->running']);
    }
    assert.deepEqual(report.restarts.map((r) => `${r.worker_id}:${r.cause}`).sort(), ['actioner:policy', 'rejecter:policy', 'thrower:policy']);
    assert.equal(report.bystander.state, 'running');
    assert.equal(report.bystander.after, report.bystander.before, 'another module was touched');
    assert.deepEqual(report.transitions.bystander, ['idle->starting', 'starting->running']);
  });

  it('that belong to no module still end the process like any Node program', T, async () => {
    const { code, stderr } = await runNode([host, 'outside']);
    assert.equal(code, 1);
    assert.match(stderr, /belongs to no module/);
  });
});

void describe('module health', () => {
  it('getWorkerHealth answers healthy, unhealthy, and unhealthy when not running', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(pluginWorker('good', 'ok.mjs'));
      master.addWorker(pluginWorker('bad', 'unhealthy.mjs'));
      assert.equal((await master.getWorkerHealth('good')).status, 'unhealthy', 'idle is not healthy');
      await master.startWorker('good');
      await master.startWorker('bad');
      const good = await master.getWorkerHealth('good');
      assert.equal(good.status, 'healthy');
      assert.equal(good.consecutive_failures, 0);
      assert.ok(good.checked_at !== null);
      const bad = await master.getWorkerHealth('bad');
      assert.equal(bad.status, 'unhealthy');
      assert.equal(bad.consecutive_failures, 0, 'on-demand checks are reported, not counted towards a restart');
      assert.equal(diagnostics(master, 'good').health.status, 'healthy');
      assert.equal(master.getWorkerState('bad'), 'running', 'an on-demand check alone never restarts');
    }),
  );

  it('a periodic health check restarts a module after failure_threshold failures (cause unhealthy)', T, () =>
    withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('sick', 'unhealthy.mjs', {}, { health_check: { interval: '50ms', timeout: '1s', failure_threshold: 2 } }));
      await master.startWorker('sick');
      const first = await master.call('sick', 'instance');
      await events.state('sick', 'running', 2);
      assert.deepEqual(events.restarts[0], { worker_id: 'sick', cause: 'unhealthy', attempt: 1, delay_ms: 0 });
      assert.ok(events.health.some((h) => h.worker_id === 'sick' && h.status === 'unhealthy'));
      assert.equal(events.exits[0]?.exit.error?.code, 'HSU_ERR_HEALTH_CHECK_FAILED');
      assert.notEqual(await master.call('sick', 'instance'), first);
      assert.equal(diagnostics(master, 'sick').last_error?.code, 'HSU_ERR_HEALTH_CHECK_FAILED');
    }),
  );
});
