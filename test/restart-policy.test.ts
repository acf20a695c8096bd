// The restart policy as pure logic: clock and randomness are injected, so every delay is exact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RESTART_POLICY, type ExitInfo, type RestartPolicy } from '../src/index.js';
import { RestartTracker, isFailure, type RestartDecision } from '../src/lifecycle/restart-policy.js';

const CRASH: ExitInfo = { requested: false, exitCode: 1, signal: null, forced: false, at: 0 };
const CLEAN: ExitInfo = { requested: false, exitCode: 0, signal: null, forced: false, at: 0 };
const KILLED: ExitInfo = { requested: false, exitCode: null, signal: 'SIGKILL', forced: false, at: 0 };
const FATAL: ExitInfo = { requested: false, exitCode: null, signal: null, forced: false, at: 0, error: { code: 'HSU_ERR_MODULE_FATAL', message: 'x' } };
const REQUESTED: ExitInfo = { requested: true, exitCode: null, signal: 'SIGTERM', forced: false, at: 0 };

function policy(overrides: Partial<RestartPolicy> = {}): RestartPolicy {
  return {
    policy: 'on-failure',
    backoff: { initial: 100, max: 1_000, multiplier: 2, jitter: 0 },
    intensity: { max_restarts: 100, window: 60_000 },
    reset_after: 30_000,
    ...overrides,
  };
}

/** A tracker on a fake clock; `advance` moves it. */
function tracker(p: RestartPolicy, random: () => number = () => 0.5): { t: RestartTracker; advance: (ms: number) => void } {
  let now = 1_000_000;
  return { t: new RestartTracker(p, () => now, random), advance: (ms) => (now += ms) };
}

function delays(decisions: RestartDecision[]): number[] {
  return decisions.map((d) => (d.action === 'restart' ? d.delayMs : -1));
}

void describe('what counts as a failure', () => {
  it('is a non-zero exit, a signal or an error; a zero exit is clean', () => {
    assert.equal(isFailure(CRASH), true);
    assert.equal(isFailure(KILLED), true);
    assert.equal(isFailure(FATAL), true);
    assert.equal(isFailure(CLEAN), false);
  });

  it('never restarts a stop that was requested, whatever the policy', () => {
    for (const mode of ['always', 'on-failure', 'never'] as const) {
      const { t } = tracker(policy({ policy: mode }));
      assert.equal(t.decide(REQUESTED, 10).action, 'none');
    }
  });
});

void describe('policy modes', () => {
  it('on-failure restarts failures and leaves clean exits stopped', () => {
    const { t } = tracker(policy({ policy: 'on-failure' }));
    assert.equal(t.decide(CLEAN, 10).action, 'none');
    for (const exit of [CRASH, KILLED, FATAL]) assert.equal(t.decide(exit, 10).action, 'restart');
  });

  it('always restarts clean exits too, and they count against the intensity limit', () => {
    const { t } = tracker(policy({ policy: 'always', intensity: { max_restarts: 2, window: 60_000 } }));
    assert.equal(t.decide(CLEAN, 10).action, 'restart');
    assert.equal(t.decide(CLEAN, 10).action, 'restart');
    assert.equal(t.decide(CLEAN, 10).action, 'give_up');
  });

  it('never gives up on a failure and stops on a clean exit', () => {
    const { t } = tracker(policy({ policy: 'never' }));
    assert.equal(t.decide(CRASH, 10).action, 'give_up');
    assert.equal(t.decide(FATAL, 10).action, 'give_up');
    assert.equal(t.decide(CLEAN, 10).action, 'none');
  });
});

void describe('backoff', () => {
  it('restarts at once the first time, then grows exponentially up to the cap', () => {
    const { t } = tracker(policy());
    const decisions = Array.from({ length: 8 }, () => t.decide(CRASH, 10));
    assert.deepEqual(delays(decisions), [0, 100, 200, 400, 800, 1000, 1000, 1000]);
    assert.deepEqual(
      decisions.map((d) => (d.action === 'restart' ? d.attempt : -1)),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.equal(t.restartCount, 8);
  });

  it('honours the multiplier', () => {
    const { t } = tracker(policy({ backoff: { initial: 10, max: 10_000, multiplier: 3, jitter: 0 } }));
    assert.deepEqual(delays(Array.from({ length: 5 }, () => t.decide(CRASH, 10))), [0, 10, 30, 90, 270]);
  });

  it('keeps jitter within ±jitter of the base delay, and never beyond the cap or below 0', () => {
    const jitter = 0.25;
    const p = policy({ backoff: { initial: 100, max: 1_000, multiplier: 2, jitter } });
    // Extremes first, then a deterministic sweep across [0, 1).
    const randoms = [0, 0.999999, 0.5, ...Array.from({ length: 200 }, (_, i) => (i * 0.6180339887) % 1)];
    for (const r of randoms) {
      const { t } = tracker(p, () => r);
      const got = delays(Array.from({ length: 7 }, () => t.decide(CRASH, 10)));
      const bases = [0, 100, 200, 400, 800, 1000, 1000];
      got.forEach((delay, i) => {
        const base = bases[i] ?? 0;
        assert.ok(delay >= Math.floor(base * (1 - jitter)) && delay <= Math.min(1_000, Math.ceil(base * (1 + jitter))), `random ${r}: delay ${delay} outside base ${base} ± ${jitter}`);
      });
    }
  });

  it('spreads exactly as the random source says', () => {
    const p = policy({ backoff: { initial: 100, max: 1_000, multiplier: 2, jitter: 0.2 } });
    const low = tracker(p, () => 0).t;
    const high = tracker(p, () => 1).t;
    const mid = tracker(p, () => 0.5).t;
    for (const t of [low, high, mid]) t.decide(CRASH, 10); // the immediate one
    assert.deepEqual([low, mid, high].map((t) => delays([t.decide(CRASH, 10)])[0]), [80, 100, 120]);
  });
});

void describe('intensity limit', () => {
  it('gives up when more than max_restarts restarts fall within the window', () => {
    const { t, advance } = tracker(policy({ intensity: { max_restarts: 3, window: 10_000 } }));
    const actions = Array.from({ length: 3 }, () => {
      advance(100);
      return t.decide(CRASH, 10).action;
    });
    assert.deepEqual(actions, ['restart', 'restart', 'restart']);
    const decision = t.decide(CRASH, 10);
    assert.equal(decision.action, 'give_up');
    assert.ok(decision.action === 'give_up' && decision.reason.length > 0);
  });

  it('forgets restarts once they leave the window', () => {
    const { t, advance } = tracker(policy({ intensity: { max_restarts: 2, window: 10_000 } }));
    assert.equal(t.decide(CRASH, 10).action, 'restart');
    advance(6_000);
    assert.equal(t.decide(CRASH, 10).action, 'restart');
    advance(3_000);
    assert.equal(t.decide(CRASH, 10).action, 'give_up'); // both still inside the last 10 s
    advance(1_001); // the first one (10.001 s ago) has left the window
    assert.equal(t.decide(CRASH, 10).action, 'restart');
  });

  it('with max_restarts 0 gives up on the first failure', () => {
    const { t } = tracker(policy({ intensity: { max_restarts: 0, window: 10_000 } }));
    assert.equal(t.decide(CRASH, 10).action, 'give_up');
  });
});

void describe('reset', () => {
  it('a run of at least reset_after makes the next restart immediate again', () => {
    const { t, advance } = tracker(policy({ reset_after: 5_000 }));
    assert.deepEqual(delays([t.decide(CRASH, 10), t.decide(CRASH, 10), t.decide(CRASH, 10)]), [0, 100, 200]);
    advance(4_999);
    assert.deepEqual(delays([t.decide(CRASH, 4_999)]), [400]); // not stable yet
    advance(5_000);
    const after = t.decide(CRASH, 5_000);
    assert.deepEqual(after, { action: 'restart', delayMs: 0, attempt: 1 });
    assert.deepEqual(delays([t.decide(CRASH, 10)]), [100]);
  });

  it('a manual start (reset) forgets both the backoff and the intensity window', () => {
    const { t } = tracker(policy({ intensity: { max_restarts: 2, window: 60_000 } }));
    t.decide(CRASH, 10);
    t.decide(CRASH, 10);
    assert.equal(t.decide(CRASH, 10).action, 'give_up');
    t.reset();
    assert.equal(t.restartCount, 0);
    assert.deepEqual(t.decide(CRASH, 10), { action: 'restart', delayMs: 0, attempt: 1 });
  });
});

void describe('defaults', () => {
  it('are on-failure with OTP/systemd-like backoff, intensity and reset', () => {
    assert.deepEqual(DEFAULT_RESTART_POLICY, {
      policy: 'on-failure',
      backoff: { initial: 100, max: 30_000, multiplier: 2, jitter: 0.2 },
      intensity: { max_restarts: 5, window: 60_000 },
      reset_after: 30_000,
    });
  });
});
