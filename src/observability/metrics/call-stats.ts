/**
 * Counts and latency of `master.call` per worker, service and action (what a target names: see
 * call-targets.ts), recorded on the call path. A
 * prom-client histogram child costs ~2 µs an observation (it hashes its labels every time); a
 * call here costs a Map lookup and a bucket increment, and the buckets are cumulated only when
 * scraped. Cardinality is bounded: actions past the per-worker limit count as `_other`, calls to
 * an unknown target as `_unknown`.
 */
import { ROUTED, UNKNOWN, type CallTarget } from './call-targets.js';
import { KeptLines, labelText, linePrefix, withLabels, type Exposition } from './exposition.js';

/** Seconds: from a 100 µs inline call to a 10 s remote one. */
export const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const LE = CALL_BUCKETS.map((b) => `le="${b}"`);
const MAX_TARGETS = 10_000;

class Series {
  readonly buckets = new Float64Array(CALL_BUCKETS.length);
  sum = 0;
  count = 0;
  /** The series' lines (every bucket, +Inf, sum, count), made at its first scrape and again only for values that moved. */
  private lines: KeptLines | undefined;

  constructor(private readonly labels: string) {}

  write(out: Exposition): void {
    const lines = (this.lines ??= new KeptLines([
      ...LE.map((le) => linePrefix('hsu_call_duration_seconds_bucket', withLabels(this.labels, le))),
      linePrefix('hsu_call_duration_seconds_bucket', withLabels(this.labels, 'le="+Inf"')),
      linePrefix('hsu_call_duration_seconds_sum', this.labels),
      linePrefix('hsu_call_duration_seconds_count', this.labels),
    ]));
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += this.buckets[i]!;
      lines.write(out, i, cumulative);
    }
    lines.write(out, LE.length, this.count);
    lines.write(out, LE.length + 1, this.sum);
    lines.write(out, LE.length + 2, this.count);
  }

  observe(seconds: number): void {
    this.sum += seconds;
    this.count += 1;
    for (let i = 0; i < CALL_BUCKETS.length; i++) {
      if (seconds <= CALL_BUCKETS[i]!) {
        this.buckets[i]! += 1;
        return;
      }
    }
  }
}

interface ActionStats {
  readonly labels: string;
  readonly ok: Series;
  readonly error: Series;
  /** Failed calls by error code. */
  readonly errors: Map<string, number>;
}

interface TargetStats extends CallTarget {
  readonly actions: Map<string, ActionStats>;
}

const NOWHERE: CallTarget = { worker_id: UNKNOWN, service: '' };
const OVERFLOW: CallTarget = { worker_id: '_other', service: '_other' };

export class CallStats {
  /** The series, by `worker_id` and `service`. */
  private readonly targets = new Map<string, TargetStats>();
  /** What each called name resolved to (several names can share series: `api` and its service name). */
  private readonly byName = new Map<string, TargetStats>();

  constructor(
    private readonly maxActionsPerWorker: number,
    private readonly resolve: (target: string) => CallTarget,
  ) {}

  record(target: string, action: string, ok: boolean, seconds: number, code: string | undefined): void {
    const stats = this.action(code === 'HSU_ERR_WORKER_NOT_FOUND' ? this.target('', NOWHERE) : (this.byName.get(target) ?? this.named(target)), action);
    if (ok) stats.ok.observe(seconds);
    else {
      stats.error.observe(seconds);
      const key = code ?? 'HSU_ERR_UNKNOWN';
      stats.errors.set(key, (stats.errors.get(key) ?? 0) + 1);
    }
  }

  /** A worker that is gone takes its series with it; names are resolved again (a scale or removal can change them). */
  forget(workerId: string): void {
    for (const [key, stats] of this.targets) if (stats.worker_id === workerId) this.targets.delete(key);
    this.byName.clear();
  }

  /** Series of calls routed to services that nothing serves any more. */
  forgetServices(served: (service: string) => boolean): void {
    for (const [key, stats] of this.targets) if (stats.worker_id === ROUTED && !served(stats.service)) this.targets.delete(key);
    this.byName.clear();
  }

  clear(): void {
    this.targets.clear();
    this.byName.clear();
  }

  async write(out: Exposition): Promise<void> {
    out.family('hsu_call_duration_seconds', 'histogram', 'Duration of master.call by worker (or service), action and outcome; its _count is the number of calls.');
    for (const target of this.targets.values()) {
      for (const stats of target.actions.values()) {
        stats.ok.write(out);
        if (stats.error.count > 0) stats.error.write(out);
      }
      await out.breathe();
    }
    out.family('hsu_call_errors_total', 'counter', 'Failed master.call by worker (or service), action and error code.');
    for (const target of this.targets.values()) {
      for (const stats of target.actions.values()) {
        for (const [code, count] of stats.errors) out.sample('hsu_call_errors_total', withLabels(stats.labels, labelText({ code })), count);
      }
    }
  }

  private named(name: string): TargetStats {
    const resolved = this.resolve(name);
    const stats = this.target(name, resolved);
    if (resolved.worker_id !== UNKNOWN) this.byName.set(name, stats);
    return stats;
  }

  private target(name: string, resolved: CallTarget): TargetStats {
    const key = `${resolved.worker_id}\u0000${resolved.service}`;
    let t = this.targets.get(key);
    if (t === undefined) {
      // The overflow series itself is made past the bound (else this would recurse for ever).
      if (this.targets.size >= MAX_TARGETS && resolved !== OVERFLOW) return this.target(name, OVERFLOW);
      this.targets.set(key, (t = { ...resolved, actions: new Map() }));
    }
    return t;
  }

  private action(t: TargetStats, action: string): ActionStats {
    let a = t.actions.get(action);
    if (a === undefined) {
      if (t.actions.size >= this.maxActionsPerWorker && action !== '_other') return this.action(t, '_other');
      const labels = labelText({ worker_id: t.worker_id, service: t.service, action });
      a = { labels, ok: new Series(withLabels(labels, 'outcome="ok"')), error: new Series(withLabels(labels, 'outcome="error"')), errors: new Map() };
      t.actions.set(action, a);
    }
    return a;
  }
}
