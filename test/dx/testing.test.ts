// hsu/testing for real: testModule's cases against a good module and against modules broken in
// the ways its conformance cases exist to catch, in all three deployments; the test master's
// waits (and their coded timeout), its cleanup of what a worker forked, and the misbehaving
// fixtures driving real supervision settings.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createTestMaster, misbehaving, misbehavingWorker, runModuleCases, testModule, type CaseResult } from '../../src/testing/index.js';
import { markedProcesses } from '../../src/testing/process-tracker.js';
import { GOOD_MJS, HANGS_ON_STOP_MJS, LEAKY_MJS, UNHEALTHY_MJS } from './testing-sources.js';
import { sourceDir } from './ts-sources.js';

const src = sourceDir({ 'adder.mjs': GOOD_MJS, 'leaky.mjs': LEAKY_MJS, 'hangs.mjs': HANGS_ON_STOP_MJS, 'sick.mjs': UNHEALTHY_MJS }, 'hsu-testing-');
after(() => src.remove());

const failures = (results: readonly CaseResult[]): string[] => results.filter((r) => !r.ok).map((r) => `${r.deployment}: ${r.name}`).sort();

// testModule registers node:test suites on its own (framework detection); these run as tests of this file.
await testModule(src.file('adder.mjs'), {
  'adds in every deployment': async (m) => assert.equal(await m.call('add', { a: 2, b: 3 }), 5),
});

void describe('runModuleCases: the conformance cases catch broken modules, deployment by deployment', () => {
  void it('a good module passes every case in inline, thread and process', async () => {
    const results = await runModuleCases(src.file('adder.mjs'), { adds: async (m) => assert.equal(await m.call('add', { a: 1, b: 1 }), 2) });
    assert.equal(results.length, 3 * 7);
    assert.deepEqual(failures(results), []);
  });

  void it('a timer left running by stop() fails "stopping gives back" inline only (a thread or a process takes it with it)', async () => {
    const results = await runModuleCases(src.file('leaky.mjs'), {});
    for (const timer of (globalThis as { leakedTimers?: NodeJS.Timeout[] }).leakedTimers ?? []) clearInterval(timer);
    assert.deepEqual(failures(results), ['inline: conformance: stopping gives back what starting took']);
    assert.match(String(results.find((r) => !r.ok)?.error?.message), /Timeout \+1/);
  });

  void it('a stop() that never ends fails "stops cleanly" (forced after stop_timeout) everywhere', async () => {
    const results = await runModuleCases(src.file('hangs.mjs'), {}, { worker: { stop_timeout: '300ms' } });
    const failed = failures(results);
    for (const deployment of ['inline', 'thread', 'process']) assert.ok(failed.includes(`${deployment}: conformance: starts, says who it is, and stops cleanly`), failed.join('\n'));
  });

  void it('isHealthy() false fails "is healthy once started" everywhere, and a failing own case is reported, not thrown', async () => {
    const results = await runModuleCases(src.file('sick.mjs'), { 'pings wrong': async (m) => assert.equal(await m.call('ping'), 'ping') }, { conformance: true });
    const failed = failures(results);
    for (const deployment of ['inline', 'thread', 'process']) {
      assert.ok(failed.includes(`${deployment}: conformance: is healthy once started`), failed.join('\n'));
      assert.ok(failed.includes(`${deployment}: pings wrong`), failed.join('\n'));
    }
  });
});

void describe('the test master and the misbehaving fixtures', () => {
  void it('a wait that is not met fails with TEST_TIMEOUT naming what it waited for', async () => {
    await using tm = await createTestMaster({ workers: [misbehavingWorker('idle', misbehaving.ignoresSigterm(), { stop_timeout: '200ms' })] });
    await tm.start('idle');
    await assert.rejects(tm.waitForState('idle', 'stopped', { timeout: 100 }), (error: { code?: string; message?: string }) => {
      assert.equal(error.code, 'HSU_ERR_TEST_TIMEOUT');
      assert.match(String(error.message), /idle to reach stopped/);
      return true;
    });
  });

  void it('ignoresSigterm: a stop is forced after stop_timeout', async () => {
    await using tm = await createTestMaster({ workers: [misbehavingWorker('stubborn', misbehaving.ignoresSigterm(), { stop_timeout: '300ms' })] });
    await tm.start('stubborn');
    await tm.waitForOutput('stubborn', 'ready');
    await tm.master.stopWorker('stubborn');
    assert.equal(tm.master.getWorkerStateWithDiagnostics('stubborn').last_exit?.forced, true);
  });

  void it('crashesAfter: the restart policy brings it back, waitForRestart sees it', async () => {
    await using tm = await createTestMaster({ workers: [misbehavingWorker('crashy', misbehaving.crashesAfter(150), { restart: { policy: 'always', backoff: { initial: '50ms' } } })] });
    await tm.start('crashy');
    await tm.waitForRestart('crashy');
    assert.ok(tm.master.getWorkerStateWithDiagnostics('crashy').restart_count >= 1);
  });

  void it('floodsOutput: a megabyte of lines reaches the output event', async () => {
    await using tm = await createTestMaster({ workers: [misbehavingWorker('loud', misbehaving.floodsOutput({ mib: 1 }), { restart: { policy: 'never' } })] });
    await tm.start('loud');
    assert.match(await tm.waitForOutput('loud', /x{32}/), /x{32}/);
  });

  void it('forksGrandchildren (detached): close() leaves no process of the test behind, and says what it had to kill', async () => {
    const tm = await createTestMaster({ workers: [misbehavingWorker('forker', misbehaving.forksGrandchildren({ count: 2, detached: true }), { stop_timeout: '500ms' })] });
    await tm.start('forker');
    await tm.waitForOutput('forker', 'ready');
    assert.ok(tm.processes().length >= 3, `worker and two grandchildren: ${tm.processes().join(', ')}`);
    const marker = tm.marker;
    await tm.close().catch((error: { code?: string }) => assert.equal(error.code, 'HSU_ERR_TEST_LEFTOVER_PROCESSES'));
    assert.deepEqual(markedProcesses(marker), []);
  });
});
