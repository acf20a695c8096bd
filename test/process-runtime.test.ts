// ProcessRuntime against real child processes: launch, output, errors, stop, escalation, orphans, floods.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { isHsuError } from '../src/errors.js';
import { isAlive, ProcessGroups, readProcStat, waitForGone } from '../src/os/index.js';
import { LineSplitter } from '../src/runtimes/output/line-splitter.js';
import type { OutputStream } from '../src/runtimes/output/index.js';
import { ProcessRuntime, type ProcessRuntimeOptions } from '../src/runtimes/process/process-runtime.js';
import type { Instance, LaunchContext } from '../src/lifecycle/runtime.js';
import { fixture } from './helpers/paths.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'hsu-process-runtime-'));
const silent = pino({ level: 'silent' });
const groups = new ProcessGroups();
const instances: Instance[] = [];
const runtimes: ProcessRuntime[] = [];

after(async () => {
  await Promise.all(instances.map((i) => i.stop({ graceMs: 0, signal: 'SIGKILL', force: true, cause: 'requested' })));
  await Promise.all(runtimes.map((r) => r.close()));
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
interface Harness {
  runtime: ProcessRuntime;
  workerId: string;
  logDir: string;
  lines: { stream: OutputStream; line: string; pid: number | undefined }[];
  /** Resolves with the first line matching. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
}

function harness(options: Partial<ProcessRuntimeOptions> & { script?: string; scriptArgs?: string[] } = {}): Harness {
  const workerId = options.workerId ?? `w${++counter}`;
  const logDir = path.join(tmp, `logs-${counter}`);
  const lines: Harness['lines'] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  const { script, scriptArgs, ...rest } = options;
  const runtime = new ProcessRuntime({
    workerId,
    executablePath: process.execPath,
    args: script === undefined ? [] : [fixture(script), ...(scriptArgs ?? [])],
    environment: {},
    inheritEnvironment: true,
    logDir,
    groups,
    onLine: (stream, line, pid) => {
      lines.push({ stream, line, pid });
      for (const w of waiters.filter((w) => w.match(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    },
    ...rest,
  });
  runtimes.push(runtime);
  const waitForLine = (match: (line: string) => boolean): Promise<string> => {
    const seen = lines.find((l) => match(l.line));
    if (seen !== undefined) return Promise.resolve(seen.line);
    return new Promise((resolve) => waiters.push({ match, resolve }));
  };
  return { runtime, workerId, logDir, lines, waitForLine };
}

function context(logger: Logger = silent, signal = new AbortController().signal): LaunchContext {
  return { signal, logger, attempt: 0 };
}

async function launch(h: Harness, ctx = context()): Promise<Instance> {
  const instance = await h.runtime.launch(ctx);
  instances.push(instance);
  return instance;
}

const TERM = { graceMs: 5_000, signal: 'SIGTERM', force: false, cause: 'requested' } as const;
const probe = (): AbortSignal => new AbortController().signal;

void describe('ProcessRuntime launch', () => {
  void it('runs the child in its own process group and describes the executable', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'forever.mjs' });
    const described = h.runtime.describe();
    assert.deepEqual({ ...described, output: undefined }, { kind: 'process', management: 'managed', executable_path: process.execPath, executable_exists: true, working_directory: process.cwd(), output: undefined });
    const instance = await launch(h);
    assert.ok(instance.pid !== undefined && instance.pid > 0);
    const stat = readProcStat(instance.pid);
    assert.equal(stat?.pgid, instance.pid);
    assert.equal(stat?.ppid, process.pid);
    assert.equal(await instance.health?.(probe()), true);
    assert.equal(instance.endpoint(), undefined);
    await h.waitForLine((l) => l === 'ready');
    const diag = instance.diagnostics() as { pid: number; pgid: number; cgroup: string | null };
    assert.equal(diag.pid, instance.pid);
    assert.equal(diag.pgid, instance.pid);
    assert.equal(diag.cgroup, null, 'no cgroup manager given: none');
    await instance.stop(TERM);
    assert.equal(await instance.health?.(probe()), false);
  });

  void it('sends stdout and stderr lines to the log files, the master logger and onLine', { timeout: 15_000 }, async () => {
    const records: { stream?: string; pid?: number; msg?: string; level?: number }[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void records.push(JSON.parse(s) as (typeof records)[number]) });
    const h = harness({ executablePath: 'sh', args: ['-c', 'echo "out one"; printf "out two\\r\\n"; echo "err one" >&2; printf "no newline"'] });
    const instance = await launch(h, context(logger));
    const info = await instance.exited;
    assert.equal(info.exitCode, 0);
    assert.equal(info.error, undefined);
    assert.deepEqual(
      h.lines.filter((l) => l.stream === 'stdout').map((l) => l.line),
      ['out one', 'out two', 'no newline'],
    );
    assert.deepEqual(h.lines.filter((l) => l.stream === 'stderr'), [{ stream: 'stderr', line: 'err one', pid: instance.pid }]);
    await h.runtime.close();
    // The file keeps the bytes exactly as written (CR and missing final newline included); lines are for the log.
    assert.equal(readFileSync(path.join(h.logDir, `${h.workerId}.out.log`), 'utf8'), 'out one\nout two\r\nno newline');
    assert.equal(readFileSync(path.join(h.logDir, `${h.workerId}.err.log`), 'utf8'), 'err one\n');
    assert.ok(records.some((r) => r.stream === 'stdout' && r.msg === 'out one' && r.pid === instance.pid && r.level === 30));
    assert.ok(records.some((r) => r.stream === 'stderr' && r.msg === 'err one' && r.level === 40));
  });

  void it('appends to the same log files across restarts', { timeout: 15_000 }, async () => {
    const h = harness({ executablePath: 'sh', args: ['-c', 'echo run'] });
    await (await launch(h)).exited;
    await (await launch(h)).exited;
    await h.runtime.close();
    assert.equal(readFileSync(path.join(h.logDir, `${h.workerId}.out.log`), 'utf8'), 'run\nrun\n');
  });

  void it('passes environment, working directory and args', { timeout: 15_000 }, async () => {
    const cwd = mkdtempSync(path.join(tmp, 'cwd-'));
    const h = harness({ script: 'env-echo.mjs', scriptArgs: ['HSU_TEST_VALUE', 'second arg'], environment: { HSU_TEST_VALUE: 'hello world' }, workingDirectory: cwd });
    await (await launch(h)).exited;
    assert.deepEqual(JSON.parse(h.lines[0]!.line), { value: 'hello world', cwd, args: ['HSU_TEST_VALUE', 'second arg'] });
  });

  void it('does not inherit the master environment when told not to', { timeout: 15_000 }, async () => {
    process.env.HSU_TEST_INHERITED = 'leak';
    const h = harness({ script: 'env-echo.mjs', scriptArgs: ['HSU_TEST_INHERITED'], inheritEnvironment: false });
    await (await launch(h)).exited;
    delete process.env.HSU_TEST_INHERITED;
    assert.equal((JSON.parse(h.lines[0]!.line) as { value: unknown }).value, null);
  });

  void it('rejects a missing executable, a non-executable file and a missing working directory with codes', async () => {
    const missing = harness({ workerId: 'missing', executablePath: path.join(tmp, 'no-such-binary') });
    await assert.rejects(missing.runtime.launch(context()), (err: Error) => {
      assert.ok(isHsuError(err, 'EXECUTABLE_NOT_FOUND'));
      assert.match(err.message, /no-such-binary/);
      assert.match(err.message, /missing/);
      return true;
    });
    assert.equal(missing.runtime.describe().executable_exists, false);

    const bare = harness({ executablePath: 'hsu-no-such-command-xyz' });
    await assert.rejects(bare.runtime.launch(context()), (err) => isHsuError(err, 'EXECUTABLE_NOT_FOUND'));

    const file = path.join(tmp, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n', { mode: 0o644 });
    const plain = harness({ executablePath: file });
    await assert.rejects(plain.runtime.launch(context()), (err: Error) => isHsuError(err, 'EXECUTABLE_NOT_EXECUTABLE') && err.message.includes(file));

    const noCwd = harness({ script: 'forever.mjs', workingDirectory: path.join(tmp, 'no-such-dir') });
    await assert.rejects(noCwd.runtime.launch(context()), (err: Error) => isHsuError(err, 'WORKING_DIRECTORY_NOT_FOUND') && err.message.includes('no-such-dir'));

    const badLogDir = harness({ script: 'forever.mjs', logDir: path.join(file, 'logs') }); // under a regular file
    await assert.rejects(badLogDir.runtime.launch(context()), (err) => isHsuError(err, 'LOG_DIR_UNUSABLE'));
  });

  void it('rejects without spawning when the launch is already aborted', async () => {
    const h = harness({ script: 'forever.mjs' });
    const controller = new AbortController();
    controller.abort(new Error('start timed out'));
    await assert.rejects(h.runtime.launch(context(silent, controller.signal)), /start timed out/);
  });
});

void describe('ProcessRuntime exits and stops', () => {
  void it('reports a crash with its exit code and a WORKER_CRASHED error', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'crash-after.mjs', scriptArgs: ['3', '50'] });
    const info = await (await launch(h)).exited;
    assert.equal(info.requested, false);
    assert.equal(info.exitCode, 3);
    assert.equal(info.signal, null);
    assert.equal(info.forced, false);
    assert.equal(info.error?.code, 'HSU_ERR_WORKER_CRASHED');
    assert.match(info.error?.message ?? '', /code 3/);
    assert.ok(info.at <= Date.now());
  });

  void it('stops gracefully on SIGTERM without forcing, and stop is idempotent', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'crash-after.mjs', scriptArgs: ['0', '60000'] });
    const instance = await launch(h);
    await Promise.all([instance.stop(TERM), instance.stop(TERM)]);
    const info = await instance.exited;
    assert.equal(info.requested, true);
    assert.equal(info.signal, 'SIGTERM');
    assert.equal(info.forced, false);
    assert.equal(info.error, undefined);
    await instance.stop(TERM); // after the fact: resolves at once
  });

  void it('lets a SIGTERM handler exit cleanly with code 0', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'forever.mjs' });
    const instance = await launch(h);
    await h.waitForLine((l) => l === 'ready');
    await instance.stop(TERM);
    const info = await instance.exited;
    assert.deepEqual([info.requested, info.exitCode, info.signal, info.forced, info.error], [true, 0, null, false, undefined]);
  });

  void it('SIGKILLs a child that ignores SIGTERM once the timeout passes', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'no-killable.mjs' });
    const instance = await launch(h);
    await h.waitForLine((l) => l === 'ready');
    const started = Date.now();
    await instance.stop({ graceMs: 300, signal: 'SIGTERM', force: false, cause: 'requested' });
    const info = await instance.exited;
    assert.ok(Date.now() - started >= 290, 'waited for the grace period');
    assert.equal(info.signal, 'SIGKILL');
    assert.equal(info.forced, true);
    assert.equal(info.requested, true);
    assert.equal(info.error, undefined);
  });

  void it('force skips the grace period', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'no-killable.mjs' });
    const instance = await launch(h);
    await h.waitForLine((l) => l === 'ready');
    const started = Date.now();
    await instance.stop({ graceMs: 10_000, signal: 'SIGTERM', force: true, cause: 'requested' });
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await instance.exited).signal, 'SIGKILL');
  });

  void it('leaves no grandchild behind after stop, including one in its own session', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'grandchildren.mjs' });
    const instance = await launch(h);
    const json = await h.waitForLine((l) => l.startsWith('{'));
    const { grandchildren } = JSON.parse(json) as { grandchildren: number[] };
    await h.waitForLine((l) => l === 'ready');
    assert.ok(grandchildren.every(isAlive));
    await instance.stop(TERM);
    const all = [instance.pid!, ...grandchildren];
    assert.equal(await waitForGone(all, 5_000), true, `still alive: ${all.filter(isAlive).join(',')}`);
  });

  void it('kills the group members when the worker dies on its own, and exited does not hang on held pipes', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'grandchildren.mjs' });
    const instance = await launch(h);
    const { grandchildren } = JSON.parse(await h.waitForLine((l) => l.startsWith('{'))) as { grandchildren: [number, number] };
    await h.waitForLine((l) => l === 'ready');
    const started = Date.now();
    process.kill(instance.pid!, 'SIGKILL'); // only the worker: its children now hold our pipes
    const info = await instance.exited;
    assert.ok(Date.now() - started < 2_000, 'exit detected promptly');
    assert.equal(info.requested, false);
    assert.match(info.error?.message ?? '', /SIGKILL/);
    assert.equal(await waitForGone([grandchildren[0]], 5_000), true, 'the in-group grandchild is gone');
    // The setsid grandchild was never snapshotted (no stop was requested); clean it up ourselves.
    try {
      process.kill(grandchildren[1], 'SIGKILL');
    } catch {
      // already gone
    }
  });

  void it('drains a 50 MiB flood without stalling the child and detects the exit', { timeout: 15_000 }, async () => {
    const h = harness({ script: 'flood.mjs', scriptArgs: ['50'], onLine: undefined });
    const instance = await launch(h);
    const info = await instance.exited;
    assert.equal(info.exitCode, 0);
    assert.equal(info.error, undefined);
    await h.runtime.close();
    assert.equal(statSync(path.join(h.logDir, `${h.workerId}.out.log`)).size, 50 * 1024 * 1024);
  });

  void it("the master's ProcessGroups takes down every live group at once", { timeout: 15_000 }, async () => {
    const a = await launch(harness({ script: 'forever.mjs' }));
    const b = await launch(harness({ script: 'no-killable.mjs' }));
    groups.killAllSync();
    const [ia, ib] = await Promise.all([a.exited, b.exited]);
    assert.equal(ia.signal, 'SIGKILL');
    assert.equal(ib.signal, 'SIGKILL');
    assert.equal(ia.requested, false);
  });
});

void describe('LineSplitter', () => {
  function split(chunks: (string | Buffer)[], max?: number): string[] {
    const out: string[] = [];
    const splitter = new LineSplitter((line) => void out.push(line), max);
    for (const c of chunks) splitter.push(typeof c === 'string' ? Buffer.from(c) : c);
    splitter.flush();
    return out;
  }

  void it('joins lines across chunks and strips \\r\\n', () => {
    assert.deepEqual(split(['a\r\nb', 'c\n', '\n', 'tail']), ['a', 'bc', '', 'tail']);
  });

  void it('reassembles a UTF-8 character split across chunks', () => {
    const bytes = Buffer.from('héllo\n');
    assert.deepEqual(split([bytes.subarray(0, 2), bytes.subarray(2)]), ['héllo']);
  });

  void it('delivers an over-long line once, cut at the cap, and reports how much was cut', () => {
    const lines: [string, number, number][] = [];
    const splitter = new LineSplitter((line, bytes, truncated) => void lines.push([line, bytes, truncated]), 8);
    for (const chunk of ['x'.repeat(10), 'y'.repeat(10) + '\nz']) splitter.push(Buffer.from(chunk));
    splitter.flush();
    assert.deepEqual(lines, [['xxxxxxxx', 21, 12], ['z', 1, 0]]);
    assert.deepEqual(split(['a'.repeat(16 * 1024 * 3 + 5)]).map((l) => l.length), [16384]);
  });

  void it('does not cut a multi-byte character when truncating a long line', () => {
    const lines = split(['aaaaaaé\n'], 7);
    assert.deepEqual(lines, ['aaaaaa']);
  });
});
