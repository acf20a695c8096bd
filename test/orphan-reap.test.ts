// A master killed with SIGKILL runs no exit hook: its process workers survive as orphans. The pid
// registry in the state directory lets the next master find and kill exactly those processes.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Master } from '../src/index.js';
import { processIdentity } from '../src/os/proc.js';
import { HsuRun } from './helpers/hsu-run.js';
import { alivePids, throwsWithCode, tempDir, waitForGone } from './helpers/master-helpers.js';
import { fixture, repoRoot } from './helpers/paths.js';

const scratch = tempDir('orphans');
after(() => scratch.remove());

function writeConfig(name: string, stateDir: string): string {
  const file = path.join(scratch.dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      'master:',
      `  state_dir: ${stateDir}`,
      `  log_dir: ${path.join(scratch.dir, 'logs')}`,
      'workers:',
      '  - id: sleeper',
      '    type: process',
      '    execution:',
      '      executable_path: node',
      `      args: [${JSON.stringify(fixture('forever.mjs'))}]`,
    ].join('\n'),
  );
  return file;
}

describe('orphans of a master killed with SIGKILL', () => {
  it('survive the dead master, and the next master with the same state_dir kills them', async () => {
    const stateDir = path.join(scratch.dir, 'state-a');
    const run = new HsuRun(writeConfig('a', stateDir), scratch.dir);
    try {
      const running = await run.waitFor('sleeper running', (l) => l.worker === 'sleeper' && l.to === 'running');
      const orphan = running.pid;
      assert.equal(typeof orphan, 'number');
      run.signal('SIGKILL');
      await run.exited;
      // The premise: nothing else cleaned up, the worker outlived its master.
      assert.deepEqual(alivePids([orphan as number]), [orphan]);

      const next = new Master({ stateDir, logDir: path.join(scratch.dir, 'logs') });
      // No worker of this master is the orphan's: starting decides, and it is killed.
      await next.start();
      assert.deepEqual(await waitForGone([orphan as number]), [], 'the orphan was reaped');
      const lock = JSON.parse(readFileSync(path.join(stateDir, 'master.lock'), 'utf8')) as { pid: number };
      assert.equal(lock.pid, process.pid, 'the new master owns the state directory');
      const live = new Set<number>();
      for (const line of readFileSync(path.join(stateDir, 'pids.jsonl'), 'utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as { op: string; pid: number };
        if (entry.op === 'add') live.add(entry.pid);
        else live.delete(entry.pid);
      }
      assert.deepEqual([...live], [], 'the journal records nothing live');
      await next.shutdown();
    } finally {
      run.kill();
    }
  });

  it('a second master refuses a state_dir whose master is alive', async () => {
    const stateDir = path.join(scratch.dir, 'state-b');
    const run = new HsuRun(writeConfig('b', stateDir), scratch.dir);
    try {
      const running = await run.waitFor('sleeper running', (l) => l.worker === 'sleeper' && l.to === 'running');
      const error = throwsWithCode(() => new Master({ stateDir }), 'HSU_ERR_STATE_DIR_IN_USE');
      assert.equal(error.context.pid, run.pid);
      assert.deepEqual(alivePids([running.pid as number]), [running.pid], 'the live master’s worker is untouched');
      run.signal('SIGTERM');
      assert.equal(await run.exitCode(), 0);
    } finally {
      run.kill();
    }
  });

  it('never kills a recycled pid: a record whose start time differs is ignored', async () => {
    const stateDir = path.join(scratch.dir, 'state-c');
    mkdirSync(stateDir, { recursive: true });
    const bystander = spawn(process.execPath, [fixture('forever.mjs')], { stdio: 'ignore' });
    await new Promise((resolve) => bystander.once('spawn', resolve));
    try {
      const pid = bystander.pid as number;
      const identity = processIdentity(pid);
      assert.ok(identity !== undefined);
      const deadOwner = { pid: 2 ** 22 + 7, startTimeTicks: 1 }; // beyond pid_max: never alive
      const record = (start: number): string => `${JSON.stringify({ op: 'add', pid, start, worker: 'w' })}\n`;
      const leave = (start: number): void => {
        writeFileSync(path.join(stateDir, 'master.lock'), JSON.stringify(deadOwner));
        writeFileSync(path.join(stateDir, 'pids.jsonl'), record(start));
      };

      leave(identity.startTimeTicks + 1);
      await new Master({ stateDir }).shutdown();
      assert.deepEqual(alivePids([pid]), [pid], 'same pid, other start time: a different process, left alone');

      leave(identity.startTimeTicks);
      await new Master({ stateDir }).shutdown();
      assert.deepEqual(await waitForGone([pid]), [], 'same pid and start time: the orphan, killed');
    } finally {
      bystander.kill('SIGKILL');
    }
  });

  it('a library master killed by a default-action SIGTERM takes its process workers with it', async () => {
    const script = path.join(scratch.dir, 'library-master.mjs');
    writeFileSync(
      script,
      [
        `import { Master } from ${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'index.js'))};`,
        `const master = new Master({ logDir: ${JSON.stringify(path.join(scratch.dir, 'logs'))} });`,
        `master.addWorker({ id: 'w', type: 'process', execution: { executable_path: process.execPath, args: [${JSON.stringify(fixture('forever.mjs'))}] } });`,
        "await master.startWorker('w');",
        "process.stdout.write(String(master.getWorkerStateWithDiagnostics('w').pid) + '\\n');",
        'setInterval(() => undefined, 1000); // an application that installs no signal handler of its own',
      ].join('\n'),
    );
    const app = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const workerPid = await new Promise<number>((resolve) => app.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
    assert.deepEqual(alivePids([workerPid]), [workerPid]);
    const exited = new Promise<NodeJS.Signals | null>((resolve) => app.once('exit', (_code, signal) => resolve(signal)));
    app.kill('SIGTERM');
    assert.equal(await exited, 'SIGTERM', 'the application still dies of the signal, as it would without hsu');
    assert.deepEqual(await waitForGone([workerPid]), [], 'its process worker died with it');
  });
});
