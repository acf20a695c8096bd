// Master.fromConfigFile runs a whole config file from code, `master:` section included: log_dir
// and state_dir (relative to the config file), shutdown_timeout, inline_error_attribution, and
// orphan reaping: the workers of a library master killed with SIGKILL are reaped by the next one.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Master } from '../../src/index.js';
import { alivePids, plugin, tempDir, waitForGone } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { childScript, waitFor } from './support.js';

const T = { timeout: 60_000 };
const scratch = tempDir('from-config');
after(() => scratch.remove());

function configFile(name: string, master: string, workers: string): string {
  const file = path.join(scratch.dir, `${name}.yaml`);
  writeFileSync(file, `master:\n${master}\nworkers:\n${workers}`);
  return file;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const sleeper = (id: string, script = 'forever.mjs', extra = ''): string =>
  `  - { id: ${id}, type: process, execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture(script))}] }${extra} }\n`;

void describe('Master.fromConfigFile', () => {
  it('applies log_dir and state_dir; a SIGKILLed library master’s worker (on_master_restart: stop) is reaped by the next master', T, async () => {
    const file = configFile('orphans', '  log_dir: ./orphans-logs\n  state_dir: ./orphans-state', sleeper('sleeper', 'forever.mjs', ', on_master_restart: stop'));
    const app = spawn(process.execPath, [childScript('library-master.child'), file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    app.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    let orphan: number | undefined;
    try {
      const line = await waitFor('the library master to report its worker', () => out.split('\n').find((l) => l.startsWith('REPORT ')));
      const started = JSON.parse(line.slice('REPORT '.length)) as { pid: number; pids: Record<string, number> };
      orphan = started.pids.sleeper;
      assert.ok(typeof orphan === 'number');
      const lock = JSON.parse(readFileSync(path.join(scratch.dir, 'orphans-state', 'master.lock'), 'utf8')) as { pid: number };
      assert.equal(lock.pid, started.pid, 'state_dir is the config’s, relative to the config file');
      await waitFor('the worker’s output in the configured log_dir', () => readLog(path.join(scratch.dir, 'orphans-logs', 'sleeper.out.log')).includes('ready'));

      const killed = new Promise((resolve) => app.once('exit', resolve));
      app.kill('SIGKILL');
      await killed;
      assert.deepEqual(alivePids([orphan]), [orphan], 'the premise: the worker outlived its SIGKILLed master');

      const next = await Master.fromConfigFile(file);
      try {
        assert.deepEqual(await waitForGone([orphan]), [], 'the next master reaped the orphan');
      } finally {
        await next.shutdown();
      }
    } finally {
      if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
      if (orphan !== undefined) for (const pid of alivePids([orphan])) process.kill(pid, 'SIGKILL');
    }
  });

  it('applies shutdown_timeout: a worker ignoring its stop is forced when the master’s deadline passes', T, async () => {
    const file = configFile('deadline', '  shutdown_timeout: 300ms\n  state_dir: ./deadline-state\n  log_dir: ./deadline-logs', sleeper('stubborn', 'no-killable.mjs', ', stop_timeout: 30s'));
    const master = await Master.fromConfigFile(file);
    await master.start();
    const pid = master.getWorkerStateWithDiagnostics('stubborn').pid;
    await waitFor('the worker to ignore SIGTERM', () => readLog(path.join(scratch.dir, 'deadline-logs', 'stubborn.out.log')).includes('ready'));
    // Well under the worker's 30 s stop timeout: only the 300 ms shutdown deadline can end it this soon.
    const report = await Promise.race([master.shutdown(), new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref())]);
    assert.ok(report !== 'hung', 'shutdown waited for the worker’s stop timeout, not the master’s deadline');
    assert.equal(report.forced, true);
    assert.deepEqual(await waitForGone([pid as number]), []);
  });

  it('applies inline_error_attribution: false installs no uncaught-error hook, true (the default) does', T, async () => {
    const inline = `  - { id: m, type: module, module: { module_type: plugin, module_path: ${JSON.stringify(plugin('ok.mjs'))} } }\n`;
    for (const [setting, added] of [
      ['false', 0],
      ['true', 1],
    ] as const) {
      const file = configFile(`attribution-${setting}`, `  inline_error_attribution: ${setting}\n  state_dir: ./attr-${setting}-state\n  log_dir: ./attr-logs`, inline);
      const before = process.listenerCount('uncaughtException');
      const master = await Master.fromConfigFile(file);
      try {
        await master.start();
        assert.equal(process.listenerCount('uncaughtException') - before, added, `inline_error_attribution: ${setting}`);
      } finally {
        await master.shutdown();
      }
      assert.equal(process.listenerCount('uncaughtException'), before);
    }
  });
});
