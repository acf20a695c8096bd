// A master in its own process, for the uncaught-error tests: node:test fails a test on any uncaught
// exception in its process, so the master that must survive one cannot run inside the runner.
// Prints one JSON report on stdout. With `outside`, it throws from a timer no module owns after
// the workers run, which must end this process like any Node program (exit 1).
import os from 'node:os';
import { Master, type RestartEvent, type StateChangeEvent } from '../../src/index.js';
import { plugin } from './master-helpers.js';

const master = new Master({ logDir: os.tmpdir(), shutdownTimeoutMs: 5_000 });
const states: StateChangeEvent[] = [];
const restarts: RestartEvent[] = [];
master.on('state', (e) => states.push(e));
master.on('restart', (e) => restarts.push(e));

function runningCount(id: string): number {
  return states.filter((e) => e.worker_id === id && e.to === 'running').length;
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out; transitions: ${states.map((e) => `${e.worker_id}:${e.from}->${e.to}`).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pluginModule = (id: string, file: string, config: Record<string, unknown> = {}) =>
  ({ id, type: 'module', module: { module_type: 'plugin', module_path: plugin(file), config } }) as const;

master.addWorker(pluginModule('bystander', 'ok.mjs'));
master.addWorker(pluginModule('thrower', 'uncaught-timer.mjs', { mode: 'throw', fail_times: 1 }));
master.addWorker(pluginModule('rejecter', 'uncaught-timer.mjs', { mode: 'reject', fail_times: 1 }));
master.addWorker(pluginModule('actioner', 'uncaught-timer.mjs', { fail_times: 0 }));
await master.start();
const bystanderBefore = await master.call('bystander', 'instance');

if (process.argv[2] === 'outside') {
  setTimeout(() => {
    throw new Error('uncaught error that belongs to no module');
  }, 10);
  await new Promise((resolve) => setTimeout(resolve, 10_000)); // the throw above must end us first
}

await until(() => runningCount('thrower') === 2 && runningCount('rejecter') === 2);
await master.call('actioner', 'throwLater');
await until(() => runningCount('actioner') === 2);
const report = {
  pid: process.pid,
  thrower: { ...master.getWorkerStateWithDiagnostics('thrower'), launch: await master.call('thrower', 'launch') },
  rejecter: { ...master.getWorkerStateWithDiagnostics('rejecter'), launch: await master.call('rejecter', 'launch') },
  actioner: { ...master.getWorkerStateWithDiagnostics('actioner'), launch: await master.call('actioner', 'launch') },
  bystander: { state: master.getWorkerState('bystander'), before: bystanderBefore, after: await master.call('bystander', 'instance') },
  restarts,
  transitions: Object.fromEntries(['thrower', 'rejecter', 'actioner', 'bystander'].map((id) => [id, states.filter((e) => e.worker_id === id).map((e) => `${e.from}->${e.to}`)])),
};
await master.shutdown();
process.stdout.write(`${JSON.stringify(report)}\n`);
