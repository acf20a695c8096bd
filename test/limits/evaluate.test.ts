// The pure evaluator and its monitor on constructed sample series (the real-process proofs are in
// test/os: a hog and a spinner acted on through this same code), and the enforcement choice.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { heapAfterGc } from '../helpers/gc.js';
import { cpuOverWindow, enforcementFor, evaluateLimits, kernelLimitsFor, limitsSchema, LimitsMonitor, strongestAction, type LimitSample } from '../../src/limits/index.js';

const INTERVAL = 1_000;

/** A series at one-second ticks: `cpu[i]` percent of one core during tick i, `rss[i]` bytes. */
function series(n: number, f: (i: number) => { cpu?: number; rss?: number; fds?: number }, pid = 100): LimitSample[] {
  let usec = 0;
  const out: LimitSample[] = [];
  for (let i = 0; i < n; i++) {
    const { cpu = 0, rss = 10e6, fds = 10 } = f(i);
    usec += (cpu / 100) * INTERVAL * 1000;
    out.push({ pid, alive: true, at_ms: i * INTERVAL, rss_bytes: rss, cpu_time_usec: usec, open_fds: fds });
  }
  return out;
}

void describe('evaluateLimits', () => {
  const limits = limitsSchema.parse({
    memory: { max_rss: '100MB', policy: 'restart' },
    cpu: { max_percent: 80, window: '5s', policy: 'log' },
    open_files: { max: 100, policy: 'graceful_shutdown' },
  });

  void it('memory and open files: the first sample over the limit is a violation with value and reason', () => {
    const samples = series(3, (i) => ({ rss: i === 2 ? 150e6 : 50e6, fds: i === 2 ? 101 : 100 }));
    assert.deepEqual(evaluateLimits(limits, samples.slice(0, 2)), []);
    const v = evaluateLimits(limits, samples);
    assert.deepEqual(v.map((x) => [x.limit, x.action, x.limit_value, x.observed, x.unit]), [
      ['memory', 'restart', 100e6, 150e6, 'bytes'],
      ['open_files', 'graceful_shutdown', 100, 101, 'descriptors'],
    ]);
    assert.match(v[0]!.reason, /150\.0 MB is over max_rss 100\.0 MB/);
    assert.equal(strongestAction(v), 'graceful_shutdown');
  });

  void it('cpu: judged only once the samples span the window, then on the window average', () => {
    const spinning = series(10, () => ({ cpu: 100 }));
    assert.equal(cpuOverWindow(spinning.slice(0, 5), 5_000), undefined, 'four seconds of history is not a 5 s window');
    assert.deepEqual(evaluateLimits(limits, spinning.slice(0, 5)), []);
    assert.equal(Math.round(cpuOverWindow(spinning.slice(0, 6), 5_000)!), 100);
    assert.equal(evaluateLimits(limits, spinning.slice(0, 6))[0]?.limit, 'cpu');
    // A two-second burst inside an otherwise idle window is not a breach.
    const burst = series(10, (i) => ({ cpu: i >= 3 && i < 5 ? 100 : 5 }));
    assert.deepEqual(evaluateLimits(limits, burst), []);
  });

  void it('a dead or empty sample set has no violations', () => {
    const dead = series(2, () => ({ rss: 500e6 })).map((s) => ({ ...s, alive: false }));
    assert.deepEqual(evaluateLimits(limits, dead), []);
    assert.deepEqual(evaluateLimits(limits, []), []);
  });
});

void describe('LimitsMonitor', () => {
  void it('acts at the first tick that sees a memory breach, once while it lasts, again after it clears', () => {
    const monitor = new LimitsMonitor(limitsSchema.parse({ memory: { max_rss: '100MB', policy: 'restart' } }));
    const rss = [50e6, 90e6, 120e6, 130e6, 80e6, 140e6];
    const actions = series(rss.length, (i) => ({ rss: rss[i] })).map((s) => monitor.observe(s).action ?? '-');
    assert.deepEqual(actions, ['-', '-', 'restart', '-', '-', 'restart']);
  });

  void it('a CPU breach is acted on within two sampling intervals of the window average crossing', () => {
    const monitor = new LimitsMonitor(limitsSchema.parse({ cpu: { max_percent: 50, window: '4s', policy: 'immediate_kill' } }));
    // Idle for 10 s, then spinning: the 4 s average passes 50 % once 3 of its 4 s are spinning.
    const samples = series(20, (i) => ({ cpu: i >= 10 ? 100 : 0 }));
    const decisions = samples.map((s) => monitor.observe(s));
    const crossing = samples.findIndex((_, i) => i >= 4 && (cpuOverWindow(samples.slice(0, i + 1), 4_000) ?? 0) > 50);
    const acted = decisions.findIndex((d) => d.action === 'immediate_kill');
    assert.ok(crossing > 0 && acted >= crossing && acted - crossing <= 2, `crossed at ${crossing}, acted at ${acted}`);
    assert.deepEqual(decisions[19]!.active, ['cpu']);
  });

  void it('starts over for a new process (restart = new pid) and when the process is gone', () => {
    const monitor = new LimitsMonitor(limitsSchema.parse({ memory: { max_rss: '100MB', policy: 'restart' } }));
    assert.equal(monitor.observe(series(1, () => ({ rss: 200e6 }), 1)[0]!).action, 'restart');
    assert.equal(monitor.observe(series(1, () => ({ rss: 200e6 }), 2)[0]!).action, 'restart', 'the new pid is judged afresh');
    assert.deepEqual(monitor.observe({ ...series(1, () => ({}), 2)[0]!, alive: false }).active, []);
  });
});

void describe('LimitsMonitor soak', () => {
  void it('a day of one-second samples keeps only the CPU window', () => {
    const monitor = new LimitsMonitor(limitsSchema.parse({ cpu: { max_percent: 50, window: '30s' }, memory: { max_rss: '1GB' } }));
    const samples = series(86_400, (i) => ({ cpu: i % 7 === 0 ? 100 : 10 }));
    const heap = heapAfterGc();
    for (const s of samples) monitor.observe(s);
    // 86,400 retained samples would be several MB; the window keeps ~31.
    assert.ok((monitor as unknown as { samples: unknown[] }).samples.length <= 32);
    // After a collection: what the monitor keeps, not the garbage a young generation may still hold.
    const grown = heapAfterGc() - heap;
    assert.ok(grown < 4 * 2 ** 20, `the heap grew by ${grown} bytes`);
  });
});

void describe('enforcement', () => {
  void it('kernel memory limit: exact for immediate_kill, a backstop for graceful policies, none for log', () => {
    const at = (policy: string) => kernelLimitsFor(limitsSchema.parse({ memory: { max_rss: '100MB', policy } })).memory_bytes;
    assert.equal(at('immediate_kill'), 100e6);
    assert.equal(at('restart'), 125e6);
    assert.equal(at('graceful_shutdown'), 125e6);
    assert.equal(at('log'), undefined);
    assert.deepEqual(kernelLimitsFor(limitsSchema.parse({ cpu: { max_percent: 90 } })), {}, 'cpu is polled, never throttled silently');
  });

  void it('diagnostics name the mode, what the kernel enforces and what is polled', () => {
    const limits = limitsSchema.parse({ memory: { max_rss: '100MB', policy: 'immediate_kill' }, open_files: { max: 10 } });
    const v1 = enforcementFor(limits, 'cgroup-v1', 'v1 controllers writable', { applied: ['memory_bytes'], unavailable: [] });
    assert.deepEqual(v1, { enforcement: 'cgroup-v1', kernel: { memory_bytes: 100e6 }, polled: ['memory', 'open_files'], reason: 'v1 controllers writable' });
    const missing = enforcementFor(limits, 'cgroup-v2', 'hybrid', { applied: [], unavailable: ['memory_bytes'] });
    assert.deepEqual(missing.kernel, {});
    assert.match(missing.reason, /controller missing for memory_bytes/);
    assert.equal(enforcementFor(limits, 'poll', 'no cgroups').enforcement, 'poll');
  });
});
