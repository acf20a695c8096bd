/**
 * Counts and latency of `master.call` per worker and action, recorded on the call path. A
 * prom-client histogram child costs ~2 µs an observation (it hashes its labels every time); a
 * call here costs a Map lookup and a bucket increment, and the buckets are cumulated only when
 * scraped. Cardinality is bounded: actions past the per-worker limit count as `_other`, calls to
 * an unknown target as `_unknown`.
 */
import { labelText, linePrefix, withLabels, type Exposition } from './exposition.js';

/** Seconds: from a 100 µs inline call to a 10 s remote one. */
export const CALL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
const LE = CALL_BUCKETS.map((b) => `le="${b}"`);
const MAX_TARGETS = 10_000;

class Series {
  readonly buckets = new Float64Array(CALL_BUCKETS.length);
  sum = 0;
  count = 0;
  /** The series' line prefixes (every bucket, +Inf, sum, count), formatted at its first scrape. */
  private prefixes: readonly string[] | undefined;

  constructor(private readonly labels: string) {}

  write(out: Exposition): void {
    const prefixes = (this.prefixes ??= [
      ...LE.map((le) => linePrefix('hsu_call_duration_seconds_bucket', withLabels(this.labels, le))),
      linePrefix('hsu_call_duration_seconds_bucket', withLabels(this.labels, 'le="+Inf"')),
      linePrefix('hsu_call_duration_seconds_sum', this.labels),
      linePrefix('hsu_call_duration_seconds_count', this.labels),
    ]);
    let cumulative = 0;
    for (let i = 0; i < LE.length; i++) {
      cumulative += this.buckets[i]!;
      out.line(prefixes[i]!, cumulative);
    }
    out.line(prefixes[LE.length]!, this.count);
    out.line(prefixes[LE.length + 1]!, this.sum);
    out.line(prefixes[LE.length + 2]!, this.count);
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

interface TargetStats {
  readonly actions: Map<string, ActionStats>;
}

export class CallStats {
  private readonly targets = new Map<string, TargetStats>();

  constructor(private readonly maxActionsPerWorker: number) {}

  record(target: string, action: string, ok: boolean, seconds: number, code: string | undefined): void {
    const stats = this.action(code === 'HSU_ERR_WORKER_NOT_FOUND' ? '_unknown' : target, action);
    if (ok) stats.ok.observe(seconds);
    else {
      stats.error.observe(seconds);
      const key = code ?? 'HSU_ERR_UNKNOWN';
      stats.errors.set(key, (stats.errors.get(key) ?? 0) + 1);
    }
  }

  /** A worker that is gone takes its series with it. */
  forget(target: string): void {
    this.targets.delete(target);
  }

  clear(): void {
    this.targets.clear();
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

  private action(target: string, action: string): ActionStats {
    let t = this.targets.get(target);
    if (t === undefined) {
      if (this.targets.size >= MAX_TARGETS) return this.action('_other', action);
      this.targets.set(target, (t = { actions: new Map() }));
    }
    let a = t.actions.get(action);
    if (a === undefined) {
      if (t.actions.size >= this.maxActionsPerWorker && action !== '_other') return this.action(target, '_other');
      const labels = labelText({ worker_id: target, action });
      a = { labels, ok: new Series(withLabels(labels, 'outcome="ok"')), error: new Series(withLabels(labels, 'outcome="error"')), errors: new Map() };
      t.actions.set(action, a);
    }
    return a;
  }
}
