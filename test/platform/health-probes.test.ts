// Health probes of thread and hosted modules leave nothing behind. A module whose isHealthy()
// never answers is probed with a timeout: the timeout makes each probe fail, failure_threshold
// failures make the worker unhealthy, and the watchdog restarts it by policy with cause unhealthy
// (running -> stopping(unhealthy), calls refused while stopping). The probe's timeout reaches the
// module's host, which bounds isHealthy() with it. After shutdown() nothing keeps the library
// user's process alive: it ends by itself.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childScript, reportOf, runChild } from './support.js';

interface Report {
  baseline: string[];
  after: string[];
  shutdown: { forced: boolean };
  seen: Record<string, { calls: number; bounds: number[] }>;
  whileStopping: Record<string, { state: string; stop_cause: string | null; call: string; history_cause: string | undefined }>;
  stopCauseAfterRestart: Record<string, string | null>;
  lastError: Record<string, string | null>;
  health: { worker_id: string; status: string; consecutive_failures: number; reason?: string }[];
  restarts: { worker_id: string; cause: string }[];
  transitions: Record<string, string[]>;
}

/** As configured in the child: interval 100ms, timeout 250ms, failure_threshold 2. */
const TIMEOUT_MS = 250;
const FAILURE_THRESHOLD = 2;
const WORKERS = { thr: 'thread', host: 'hosted process' } as const;

void describe('periodic health checks of modules whose isHealthy() never answers', () => {
  let result: Report;
  before(async () => {
    // The child must end by itself after shutdown(); a timer or handle left behind holds it past this bound.
    result = reportOf(await runChild<Report>(childScript('probes.child'), [], { timeoutMs: 45_000 }));
  });

  for (const [id, deployment] of Object.entries(WORKERS)) {
    it(`${deployment}: the timeout fails the probe; unhealthy after failure_threshold, restarted with cause unhealthy`, () => {
      const unhealthy = result.health.find((h) => h.worker_id === id && h.status === 'unhealthy');
      assert.ok(unhealthy !== undefined, `no unhealthy event for ${id}`);
      assert.equal(unhealthy.consecutive_failures, FAILURE_THRESHOLD);
      assert.match(unhealthy.reason ?? '', /timed out/);
      assert.ok(result.restarts.some((r) => r.worker_id === id && r.cause === 'unhealthy'));
      assert.deepEqual(result.transitions[id]?.slice(0, 6), [
        'idle->starting',
        'starting->running',
        'running->stopping(unhealthy)',
        'stopping->waiting_restart',
        'waiting_restart->starting',
        'starting->running',
      ]);
      assert.equal(result.lastError[id], 'HSU_ERR_HEALTH_CHECK_FAILED');
    });

    it(`${deployment}: while the unhealthy stop is under way the worker is stopping, stop_cause unhealthy, calls refused`, () => {
      assert.deepEqual(result.whileStopping[id], { state: 'stopping', stop_cause: 'unhealthy', call: 'HSU_ERR_CALL_NOT_RUNNING', history_cause: 'unhealthy' });
    });

    it(`${deployment}: after the restart, diagnostics still say the last stop was caused by unhealthy`, () => {
      assert.equal(result.stopCauseAfterRestart[id], 'unhealthy');
    });

    it(`${deployment}: the probe's timeout reaches the module's host, which bounds isHealthy() with it`, () => {
      const seen = result.seen[id];
      assert.ok(seen !== undefined && seen.calls > 0, 'the premise: a health check reached the module');
      assert.ok(seen.bounds.includes(TIMEOUT_MS), `timers the host armed around isHealthy(): ${JSON.stringify(seen.bounds)}; expected one of ${TIMEOUT_MS} ms`);
    });
  }

  it('after shutdown() no timer or handle of the master remains, and the process ends by itself', () => {
    assert.equal(result.shutdown.forced, false);
    assert.deepEqual(result.after, result.baseline);
  });
});
