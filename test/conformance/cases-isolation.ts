/**
 * Isolation facts. Thread and process modules crash alone: an uncaught exception, process.exit()
 * or a heap past `resource_limits` ends that worker only, which restarts by policy while the master
 * and the sibling keep running. Inline modules share the master's fate; what hsu can do for them
 * (charge an uncaught error from the module's own async work to the module) is checked in a master
 * of its own, and what it cannot (exit, memory limits) is asserted as the documented limit.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import type conformance from '../fixtures/modules/conformance.js';
import { assertSiblingUnaffected, rejectsWithCode, type Suite } from './harness.js';

/** Where the throwing timer was set: in start() (the module's own scope) or inside an action. */
const TIMER_ORIGINS = [
  ['throwFromTimer', 'in start()'],
  ['throwFromActionTimer', 'inside an action'],
] as const;

const INLINE_MASTER = fileURLToPath(new URL('./inline-master.child.js', import.meta.url));

interface ChildOutcome {
  code: number | null;
  signal: string | null;
  result: Record<string, unknown> | undefined;
  stderr: string;
}

function runInlineMaster(mode: string): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [INLINE_MASTER, mode], { timeout: 30_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
      const failure = error as (Error & { code?: number | string; signal?: string }) | null;
      resolve({
        code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        result: line === undefined ? undefined : (JSON.parse(line.slice('RESULT '.length)) as Record<string, unknown>),
        stderr,
      });
    });
  });
}

export function isolationCases(s: Suite): void {
  if (s.deployment === 'inline') {
    inlineCases(s);
    return;
  }

  for (const [action, where] of TIMER_ORIGINS) {
    void it(`an uncaught exception from a timer the module set ${where} restarts that worker alone`, async () => {
      const id = await s.start(`uncaught-${action}`);
      const client = s.master.client<typeof conformance>(id);
      const before = await client.whoami();
      await s.master.call(id, action, 'thrown by the module timer');
      const d = await s.restarted(id);
      // The thrown error carries its own code (E_TIMER); the worker's failure is still classified as uncaught.
      assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_UNCAUGHT');
      assert.match(d.last_error?.message ?? '', /thrown by the module timer/);
      assert.notEqual((await client.whoami()).token, before.token);
      await assertSiblingUnaffected(s);
      await s.master.stopWorker(id);
    });
  }

  void it('process.exit() inside the module ends and restarts that worker alone', async () => {
    const id = await s.start('exits');
    const client = s.master.client<typeof conformance>(id);
    const before = await client.whoami();
    assert.equal(await client.exit(3), 'exiting');
    const d = await s.restarted(id);
    assert.equal(d.last_error?.code, 'HSU_ERR_WORKER_CRASHED');
    assert.deepEqual({ exit_code: d.last_exit?.exit_code, requested: d.last_exit?.requested }, { exit_code: 3, requested: false });
    const after = await client.whoami();
    assert.notEqual(after.token, before.token);
    if (s.deployment === 'process') assert.notEqual(after.pid, before.pid);
    else assert.notEqual(after.threadId, before.threadId);
    await assertSiblingUnaffected(s);
    await s.master.stopWorker(id);
  });

  void it('a heap past resource_limits ends and restarts that worker alone with MODULE_OUT_OF_MEMORY', async () => {
    const limits = { max_old_generation_mb: 32 };
    const id = await s.start('leaky', { resourceLimits: limits });
    assert.deepEqual(s.diagnostics(id).details.resource_limits, limits);
    const client = s.master.client<typeof conformance>(id);
    const before = await client.whoami();
    // The call in flight cannot complete: it is interrupted, not left hanging.
    await rejectsWithCode(client.leak(undefined), 'HSU_ERR_CALL_INTERRUPTED');
    const d = await s.restarted(id);
    assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_OUT_OF_MEMORY');
    assert.equal(d.last_exit?.requested, false);
    if (s.deployment === 'thread') {
      // V8 stops the isolate (ERR_WORKER_OUT_OF_MEMORY); the thread ends with code 1.
      assert.deepEqual({ exit_code: d.last_exit?.exit_code, signal: d.last_exit?.signal }, { exit_code: 1, signal: null });
    } else {
      // --max-old-space-size: V8's fatal OOM handler aborts the host process.
      assert.deepEqual({ exit_code: d.last_exit?.exit_code, signal: d.last_exit?.signal }, { exit_code: null, signal: 'SIGABRT' });
      await s.logs.waitForLine('V8 explaining the abort on stderr', (r) => r.worker === id && r.stream === 'stderr' && String(r.msg).includes('JavaScript heap out of memory'));
    }
    assert.notEqual((await client.whoami()).token, before.token);
    assert.deepEqual(await client.echo({ text: 'fresh heap', n: 1 }), { text: 'fresh heap', doubled: 2 });
    await assertSiblingUnaffected(s);
    await s.master.stopWorker(id);
  });
}

function inlineCases(s: Suite): void {
  for (const [action, where] of TIMER_ORIGINS) {
    // Known gap: actions do not run in the module's async scope yet, so their timers are not attributed.
    void it(`an uncaught exception from a timer the module set ${where} restarts the module; its master survives`, async () => {
      const outcome = await runInlineMaster(action);
      assert.equal(outcome.code, 0, `the inline master must survive: ${outcome.stderr}`);
      const result = outcome.result;
      assert.ok(result !== undefined, `no result from the inline master: ${outcome.stderr}`);
      assert.equal(result.restart_count, 1);
      assert.equal((result.last_error as { code: string }).code, 'HSU_ERR_MODULE_UNCAUGHT');
      assert.match((result.last_error as { message: string }).message, /thrown by the module timer/);
      assert.equal(result.new_instance, true);
      assert.deepEqual(result.sibling, { state: 'running', restart_count: 0, echo: { text: 'x', doubled: 2 } });
    });
  }

  void it('process.exit() inside an inline module ends the master itself (shared fate)', async () => {
    const outcome = await runInlineMaster('exit');
    assert.equal(outcome.result, undefined, 'nothing in the master runs after an inline module exits');
    assert.deepEqual({ code: outcome.code, signal: outcome.signal }, { code: 7, signal: null });
  });

  void it('resource_limits are refused for an inline module: it shares the master heap', () => {
    assert.throws(
      () => s.add('limited', { resourceLimits: { max_old_generation_mb: 32 } }),
      (error: Error & { code?: string }) => error.code === 'HSU_ERR_CONFIG_INVALID' && /share the master's heap/.test(error.message),
    );
  });
}
