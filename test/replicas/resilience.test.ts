// Resilience configured in YAML, proved through `master.call(service, ...)` against real replicas:
// a circuit breaker opens against the one failing replica while its siblings serve, recovers
// through half-open once the replica is cured, and with every replica failing the service itself
// is refused; a full bulkhead sheds with its code; an attempt timeout aborts the replica's work and
// is retried elsewhere only for idempotent calls (by `idempotent_actions`, overridable per call);
// an action's own error is never retried; the caller's deadline has its own scope. State is read
// from the router's diagnostics and events (master.services.router).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Master } from '../../src/index.js';
import type { RouterEvent } from '../../src/mesh/index.js';
import { codeOf, until, withConfig, type Served } from './helpers.js';
import { replicaWorker, trio } from './yaml.js';

const T = { timeout: 90_000 };

function events(master: Master): RouterEvent[] {
  const seen: RouterEvent[] = [];
  master.services.router.subscribe((event) => {
    seen.push(event);
  });
  return seen;
}

/**
 * An action's own plain Error: code-less from an inline replica, HSU_ERR_UNKNOWN once rebuilt
 * across a thread or process boundary (both count against the replica, neither is retried).
 */
function actionError(code: string | undefined): boolean {
  return code === undefined || code === 'HSU_ERR_UNKNOWN';
}

function resilienceOf(master: Master, service: string) {
  const d = master.services.router.diagnostics().find((x) => x.service === service);
  assert.ok(d !== undefined, `diagnostics of ${service}`);
  return d.resilience;
}

void describe('resilience from YAML at the master', () => {
  it('a breaker opens against the failing replica only, recovers through half-open; all failing, the service is refused', T, async (t) => {
    await withConfig(
      (p) => trio(p, 'brk', '    balancer: { strategy: round_robin }\n    resilience: { circuit_breaker: { consecutive: 3, half_open_after: 2s } }'),
      async ({ master, flag, cure }) => {
        const seen = events(master);
        await master.start();
        flag('fail', 'brk-thread');
        const outcomes: string[] = [];
        for (let i = 0; i < 30; i++) {
          outcomes.push(
            await master.call('brk', 'work', { ms: 0 }).then(
              (a) => (a as Served).worker,
              (e: Error & { code?: string }) => (actionError(e.code) ? `action error: ${e.message}` : `${String(e.code)}: ${e.message}`),
            ),
          );
        }
        const failed = outcomes.filter((o) => !o.startsWith('brk-'));
        assert.deepEqual(failed, Array(3).fill('action error: injected failure on brk-thread'), 'three failures in a row opened it; the action’s errors passed through');
        assert.ok(!outcomes.slice(outcomes.lastIndexOf(failed[2] as string) + 1).includes('brk-thread'));
        assert.ok(outcomes.filter((o) => o === 'brk-inline').length >= 12 && outcomes.filter((o) => o === 'brk-process').length >= 12, 'the siblings served on');
        assert.equal(resilienceOf(master, 'brk').circuit_breakers?.['brk-thread']?.state, 'open');
        assert.notEqual(resilienceOf(master, 'brk').circuit_breakers?.['brk-inline']?.state, 'open');

        cure('fail', 'brk-thread');
        let probe = '';
        await until('a half-open probe to reach the cured replica', async () => {
          probe = ((await master.call('brk', 'work', { ms: 0 })) as Served).worker;
          if (probe !== 'brk-thread') await new Promise((resolve) => setTimeout(resolve, 50));
          return probe === 'brk-thread';
        });
        assert.equal(resilienceOf(master, 'brk').circuit_breakers?.['brk-thread']?.state, 'closed');
        const transitions = (): string[] => seen.filter((e) => e.type === 'circuit_state' && e.instance_id === 'brk-thread').map((e) => (e.type === 'circuit_state' ? `${e.from}->${e.to}` : ''));
        await until('the breaker events to be delivered', () => transitions().length >= 3);
        assert.deepEqual(transitions(), ['closed->open', 'open->half_open', 'half_open->closed']);

        for (const d of ['inline', 'thread', 'process']) flag('fail', `brk-${d}`);
        const codes: string[] = [];
        for (let i = 0; i < 12 && codes.at(-1) !== 'HSU_ERR_CIRCUIT_OPEN'; i++) {
          const { code } = await codeOf(master.call('brk', 'work', { ms: 0 }));
          codes.push(actionError(code) ? 'action error' : String(code));
        }
        assert.deepEqual(codes, [...Array(9).fill('action error'), 'HSU_ERR_CIRCUIT_OPEN'], 'three action errors per replica, then the service is refused');
        const refused = await codeOf(master.call('brk', 'work', { ms: 0 }));
        assert.equal(refused.code, 'HSU_ERR_CIRCUIT_OPEN');
        assert.equal(refused.context.scope, 'service');
        assert.equal(typeof refused.context.reopen_in_ms, 'number');
        t.diagnostic(`breaker events: ${seen.filter((e) => e.type === 'circuit_state').length}`);
      },
    );
  });

  it('a full bulkhead sheds at once with HSU_ERR_BULKHEAD_FULL; the admitted calls complete', T, async () => {
    await withConfig(
      (p) => replicaWorker(p, { id: 'bh', deployment: 'thread', extra: '    instances: 2\n    resilience: { bulkhead: { max_concurrent: 2, queue: 1 } }' }),
      async ({ master }) => {
        const seen = events(master);
        await master.start();
        const admitted = [0, 1, 2].map(() => master.call('bh', 'work', { ms: 400 }) as Promise<Served>);
        const shed = await codeOf(master.call('bh', 'work', { ms: 0 }));
        assert.equal(shed.code, 'HSU_ERR_BULKHEAD_FULL');
        const during = resilienceOf(master, 'bh').bulkhead;
        assert.deepEqual({ active: during?.active, queued: during?.queued, rejected: during?.rejected }, { active: 2, queued: 1, rejected: 1 });
        const served = await Promise.all(admitted);
        assert.equal(served.length, 3, 'the two running and the queued one completed');
        assert.equal(new Set(served.map((s) => s.worker)).size, 2, 'both replicas served');
        await until('the rejection event', () => seen.some((e) => e.type === 'bulkhead_rejected'));
        assert.deepEqual(seen.find((e) => e.type === 'bulkhead_rejected'), { type: 'bulkhead_rejected', service: 'bh', action: 'work', max_concurrent: 2, queue: 1 });
        assert.equal(((await master.call('bh', 'work', { ms: 0 })) as Served).worker.startsWith('bh#'), true, 'free again once they finished');
      },
    );
  });

  it('an attempt timeout aborts the slow replica’s work; only idempotent calls are retried elsewhere; action errors never; the caller’s deadline is its own', T, async (t) => {
    await withConfig(
      (p) =>
        replicaWorker(p, {
          id: 'sp',
          deployment: 'process',
          extra: '    instances: 2\n    resilience: { timeout: 300ms, retry: { max_attempts: 2, backoff: { initial: 10ms, max: 20ms } }, idempotent_actions: [work] }',
        }),
      async ({ master, flag, cure }) => {
        const seen = events(master);
        await master.start();
        flag('slow', 'sp#0');

        // Marked not idempotent: a timeout on sp#0 is the caller's answer, never a retry.
        const once = await Promise.all([0, 1, 2, 3].map(() => master.call('sp', 'work', { ms: 0 }, { idempotent: false }).then((a) => (a as Served).worker, (e: { code?: string; context?: Record<string, unknown> }) => e)));
        const timeouts = once.filter((o): o is { code?: string; context?: Record<string, unknown> } => typeof o !== 'string');
        assert.ok(timeouts.length >= 1, 'some calls landed on the slow replica');
        for (const e of timeouts) assert.deepEqual([e.code, e.context?.scope, e.context?.instance_id], ['HSU_ERR_CALL_TIMEOUT', 'attempt', 'sp#0']);
        assert.ok(once.filter((o) => typeof o === 'string').every((w) => w === 'sp#1'));
        assert.equal(resilienceOf(master, 'sp').retry.retries, 0, 'nothing retried');
        await until('the slow replica to see its calls aborted', async () => ((await master.call('sp#0', 'aborts')) as number) >= timeouts.length);

        // Idempotent by config (`idempotent_actions: [work]`): every call succeeds, on sp#1.
        const retried = (await Promise.all([0, 1, 2, 3].map(() => master.call('sp', 'work', { ms: 0 })))) as Served[];
        assert.deepEqual(
          retried.map((r) => r.worker),
          ['sp#1', 'sp#1', 'sp#1', 'sp#1'],
        );
        const retries = resilienceOf(master, 'sp').retry.retries;
        assert.ok(retries >= 1);
        await until('the retry events', () => seen.filter((e) => e.type === 'retry').length === retries);
        for (const e of seen) if (e.type === 'retry') assert.deepEqual([e.code, e.failed_instance, e.attempt], ['HSU_ERR_CALL_TIMEOUT', 'sp#0', 2]);
        t.diagnostic(`timeouts without retry: ${timeouts.length}; retries of idempotent calls: ${retries}`);

        // An action's own error is an answer, not an outage: not retried even when idempotent.
        cure('slow', 'sp#0');
        flag('fail', 'sp#0');
        flag('fail', 'sp#1');
        const actionError = await codeOf(master.call('sp', 'work', { ms: 0 }));
        assert.equal(actionError.code, 'HSU_ERR_UNKNOWN', 'an action error, rebuilt across the process boundary');
        assert.match(actionError.message, /injected failure on sp#[01]/);
        assert.equal(resilienceOf(master, 'sp').retry.retries, retries, 'not retried');

        // The caller's deadline covers the whole call and says so.
        cure('fail', 'sp#0');
        cure('fail', 'sp#1');
        const late = await codeOf(master.call('sp', 'work', { ms: 2_000 }, { timeout: 100, idempotent: false }));
        assert.deepEqual([late.code, late.context.scope], ['HSU_ERR_CALL_TIMEOUT', 'call']);
      },
    );
  });
});
