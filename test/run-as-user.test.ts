// `hsu run` the way a user runs it: the real binary, a config file in a fresh directory, real
// signals, and its stdout read by us, by nobody, or piped into a reader that stalls.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HsuRun, type LogLine } from './helpers/hsu-run.js';
import { alivePids, plugin, tempDir } from './helpers/master-helpers.js';
import { fixture, repoRoot } from './helpers/paths.js';

const T = { timeout: 60_000 };
const scratch = tempDir('run-as-user');
after(() => scratch.remove());
let configs = 0;

/** Writes a config into its own fresh directory and returns the file. */
function config(text: string, master = ''): string {
  const base = path.join(scratch.dir, `c${++configs}`);
  const file = `${base}.yaml`;
  writeFileSync(file, `master: { state_dir: ${JSON.stringify(`${base}-state`)}, log_dir: ${JSON.stringify(`${base}-logs`)}${master} }\n${text}`);
  return file;
}

function node(script: string, ...args: string[]): string {
  return `{ executable_path: ${JSON.stringify(process.execPath)}, args: ${JSON.stringify([fixture(script), ...args])} }`;
}

/** Starts `hsu run`, waits for "master running", checks it is still alive after `holdMs`, then SIGINTs it. */
async function staysUpUntilSignalled(file: string, holdMs = 1500): Promise<{ run: HsuRun; code: number | null }> {
  const run = new HsuRun(file, scratch.dir);
  try {
    await run.waitFor('master running', (l) => l.msg === 'master running');
    await sleep(holdMs);
    assert.deepEqual(alivePids([run.pid]), [run.pid], 'hsu run exited by itself');
    run.signal('SIGINT');
    return { run, code: await run.exitCode() };
  } finally {
    run.kill();
  }
}

describe('hsu run stays up until it is told to stop', () => {
  it('with only an inline module that holds nothing open', T, async () => {
    const file = config(`workers:\n  - { id: idle, type: module, module: { module_type: plugin, module_path: ${JSON.stringify(plugin('no-timers.mjs'))} } }\n`);
    const { code } = await staysUpUntilSignalled(file);
    assert.equal(code, 0);
  });

  it('with every worker disabled', T, async () => {
    const file = config(`workers:\n  - { id: off, type: process, enabled: false, execution: ${node('forever.mjs')} }\n`);
    assert.equal((await staysUpUntilSignalled(file)).code, 0);
  });

  it('when a worker failed to start, a crash loop ended in failed, or a one-shot process exited', T, async () => {
    const file = config(`workers:
  - { id: missing, type: process, execution: { executable_path: ./does-not-exist } }
  - { id: crashy, type: process, execution: ${node('crash-after.mjs', '0', '1')}, restart: { policy: always, backoff: { initial: 10ms, max: 20ms }, intensity: { max_restarts: 2, window: 60s } } }
  - { id: oneshot, type: process, execution: ${node('lines.mjs', '3')}, restart: { policy: on-failure } }
`);
    const run = new HsuRun(file, scratch.dir);
    try {
      await run.waitFor('crashy failed', (l) => l.msg === 'state' && l.worker === 'crashy' && l.to === 'failed');
      await run.waitFor('oneshot stopped', (l) => l.msg === 'state' && l.worker === 'oneshot' && l.to === 'stopped');
      await sleep(1000);
      assert.deepEqual(alivePids([run.pid]), [run.pid], 'hsu run exited by itself');
      run.signal('SIGTERM');
      assert.equal(await run.exitCode(), 0);
    } finally {
      run.kill();
    }
  });
});

describe('hsu run and its stdout', () => {
  it('exits after shutdown even when nobody reads its stdout', T, async () => {
    const file = config(`workers:\n  - { id: flood, type: process, execution: ${node('lines.mjs', '2000000')}, restart: { policy: never } }\n`);
    // stdout is a pipe we never read: it fills after 64 KiB, like `hsu run cfg | sleep 60`.
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js'), 'run', file, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.pause();
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await sleep(2500);
      child.kill('SIGINT');
      const outcome = await Promise.race([exited, sleep(20_000).then(() => 'still running' as const)]);
      assert.notEqual(outcome, 'still running', 'a master whose stdout is stalled never exited after SIGINT');
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdout.destroy();
    }
  });
});

describe('hsu run stops each process once per escalation step', () => {
  it('sends a single SIGTERM, so a server that treats a second one as "force" cleans up gracefully', T, async () => {
    const report = path.join(scratch.dir, 'sigterm-report.txt');
    const file = config(`workers:\n  - { id: srv, type: process, execution: ${node('sigterm-counter.mjs', report)}, stop_timeout: 5s }\n`);
    const run = new HsuRun(file, scratch.dir);
    try {
      await run.waitFor('ready', (l) => l.worker === 'srv' && l.msg === 'ready');
      run.signal('SIGINT');
      assert.equal(await run.exitCode(), 0);
      assert.equal(readFileSync(report, 'utf8'), 'graceful');
    } finally {
      run.kill();
    }
  });
});

describe('hsu run exit codes', () => {
  it('exits non-zero when the shutdown deadline passed and workers were forced', T, async () => {
    const file = config(`workers:\n  - { id: stubborn, type: process, execution: ${node('no-killable.mjs')}, stop_timeout: 30s }\n`, ', shutdown_timeout: 500ms');
    const run = new HsuRun(file, scratch.dir);
    try {
      await run.waitFor('ready', (l) => l.worker === 'stubborn' && l.msg === 'ready');
      run.signal('SIGTERM');
      assert.equal(await run.exitCode(), 1);
      assert.ok(run.lines.some((l) => l.msg === 'shutdown complete' && l.forced === true));
    } finally {
      run.kill();
    }
  });
});

describe('output accounting in the master log', () => {
  function copies(run: HsuRun, worker: string): LogLine[] {
    return run.lines.filter((l) => l.worker === worker && l.stream === 'stdout' && l.suppressed_lines === undefined);
  }

  it('counts every line that was not copied, so copied + suppressed = written', T, async () => {
    const total = 300_000;
    const file = config(`workers:\n  - { id: lines, type: process, execution: ${node('lines.mjs', String(total))}, restart: { policy: never } }\n`);
    const run = new HsuRun(file, scratch.dir);
    try {
      await run.waitFor('lines stopped', (l) => l.msg === 'state' && l.worker === 'lines' && l.to === 'stopped');
      await sleep(300);
      const suppressed = run.lines.filter((l) => l.worker === 'lines' && typeof l.suppressed_lines === 'number').reduce((sum, l) => sum + (l.suppressed_lines as number), 0);
      const copied = copies(run, 'lines').length;
      assert.ok(suppressed > 0, 'a flood of this size must be rate limited');
      assert.equal(copied + suppressed, total, `copied ${copied} + suppressed ${suppressed}`);
      run.signal('SIGINT');
      assert.equal(await run.exitCode(), 0);
    } finally {
      run.kill();
    }
  });

  it('budgets bytes, not only lines: 50 MiB without a newline stays out of the master log, but not out of the file', T, async () => {
    const dirFile = config(`workers:\n  - { id: blob, type: process, execution: ${node('no-newline.mjs', '50')}, restart: { policy: never } }\n`);
    const run = new HsuRun(dirFile, scratch.dir);
    try {
      await run.waitFor('blob stopped', (l) => l.msg === 'state' && l.worker === 'blob' && l.to === 'stopped');
      await sleep(300);
      const copiedBytes = copies(run, 'blob').reduce((sum, l) => sum + String(l.msg ?? '').length, 0);
      assert.ok(copiedBytes <= 4 * 1024 * 1024, `${copiedBytes} bytes of one worker's output were copied into the master log`);
      run.signal('SIGINT');
      assert.equal(await run.exitCode(), 0);
      const logFile = path.join(dirFile.replace(/\.yaml$/, '-logs'), 'blob.out.log');
      assert.equal(statSync(logFile).size, 50 * 1024 * 1024);
    } finally {
      run.kill();
    }
  });
});
