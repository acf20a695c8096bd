/**
 * The autoscaling decision engine: fed samples, it answers what to do and why. It owns no timer
 * and no replica; {@link AutoscaleLoop} samples it on a timer and the master applies decisions.
 *
 * Scaling up uses the mean over the samples of the last `window` (react fast); scaling down needs a
 * full window below `scale_down_at` (react slowly), as Kubernetes' HPA stabilises scale-down. After
 * an action the window restarts (older samples described another replica count) and `cooldown`
 * must pass before the next. Falling below `min` or above `max` is corrected at once; an unhealthy
 * replica is replaced whatever the cooldown, once per replica while it stays unhealthy.
 */
import { hsuError } from '../../errors.js';
import { Observers, warnSubscriberError, type SubscribeOptions, type Subscription } from '../bus/observers.js';
import { parseBlock } from '../config.js';
import { autoscaleSchema, type AutoscaleConfig, type AutoscaleConfigInput, type AutoscaleMetric } from './schema.js';

export interface AutoscaleSample {
  /** Replicas now serving. */
  readonly replicas: number;
  /** Calls in flight over all replicas (for `inflight_per_replica`). */
  readonly inflight?: number;
  /** Backlog, e.g. a command worker's lag (for `queue_depth`). */
  readonly queue_depth?: number;
  /** Mean CPU of the replicas, 100 = one core (for `cpu_percent`). */
  readonly cpu_percent?: number;
  /** Replicas reported unhealthy. */
  readonly unhealthy?: readonly string[];
}

export type ScaleAction = 'scale_up' | 'scale_down' | 'replace' | 'none';

export interface ScaleDecision {
  readonly service: string;
  readonly action: ScaleAction;
  readonly from: number;
  readonly to: number;
  readonly reason: string;
  readonly metric: AutoscaleMetric;
  /** The metric's mean over the window when the decision was taken. */
  readonly value: number | undefined;
  readonly at: number;
  /** For `replace`: the replica to replace. */
  readonly instance_id?: string;
}

export interface AutoscalerOptions {
  readonly now?: () => number;
  readonly where?: string;
  readonly on_subscriber_error?: (error: unknown) => void;
}

/** Samples kept at most per window; a faster sampler only thins the history. */
const MAX_SAMPLES = 1_024;

export class Autoscaler {
  readonly config: AutoscaleConfig;
  private readonly now: () => number;
  private readonly observers: Observers<ScaleDecision>;
  private samples: { at: number; value: number }[] = [];
  private windowStart: number | undefined;
  private lastActionAt = -Infinity;
  private readonly replacing = new Set<string>();
  private last: ScaleDecision | undefined;

  constructor(
    readonly service: string,
    config: AutoscaleConfigInput,
    options: AutoscalerOptions = {},
  ) {
    this.config = parseBlock(autoscaleSchema, config, options.where ?? 'autoscale');
    this.now = options.now ?? Date.now;
    this.observers = new Observers(options.on_subscriber_error ?? warnSubscriberError('autoscaler'));
  }

  /** Records `sample` and decides; every decision but `none` is also published to subscribers. */
  observe(sample: AutoscaleSample): ScaleDecision {
    const at = this.now();
    const value = this.valueOf(sample);
    this.record(at, value);
    const decision = this.decide(sample, at);
    this.last = decision;
    if (decision.action !== 'none') this.observers.emit(decision);
    return decision;
  }

  subscribe(listener: (decision: ScaleDecision) => void | Promise<void>, options?: SubscribeOptions): Subscription {
    return this.observers.subscribe(listener, options);
  }

  diagnostics(): { service: string; mean: number | undefined; samples: number; cooldown_until: number | undefined; last_decision: ScaleDecision | undefined } {
    const until = this.lastActionAt + this.config.cooldown;
    return { service: this.service, mean: this.mean(), samples: this.samples.length, cooldown_until: Number.isFinite(until) ? until : undefined, last_decision: this.last };
  }

  close(): void {
    this.observers.close();
  }

  private decide(sample: AutoscaleSample, at: number): ScaleDecision {
    const { min, max, step, cooldown, window, scale_up_at: up, scale_down_at: down } = this.config;
    const n = sample.replicas;
    const mean = this.mean();
    const make = (action: ScaleAction, to: number, reason: string, instance?: string): ScaleDecision => ({
      service: this.service,
      action,
      from: n,
      to,
      reason,
      metric: this.config.metric,
      value: mean,
      at,
      ...(instance === undefined ? {} : { instance_id: instance }),
    });

    const replace = this.nextReplacement(sample.unhealthy ?? []);
    if (replace !== undefined) return make('replace', n, `replica ${replace} is unhealthy`, replace);
    if (n < min) return this.acted(make('scale_up', min, `${n} replica(s) is below min ${min}`), at);
    if (n > max) return this.acted(make('scale_down', max, `${n} replica(s) is above max ${max}`), at);
    if (mean === undefined) return make('none', n, 'no sample yet');
    const left = this.lastActionAt + cooldown - at;
    if (left > 0) return make('none', n, `cooling down for ${Math.ceil(left)} ms more`);
    const metric = this.config.metric;
    if (mean > up) {
      if (n >= max) return make('none', n, `${metric} ${round(mean)} > ${up} but already at max ${max}`);
      return this.acted(make('scale_up', Math.min(max, n + step), `${metric} ${round(mean)} > scale_up_at ${up}`), at);
    }
    if (mean < down) {
      if (n <= min) return make('none', n, `${metric} ${round(mean)} < ${down}, already at min ${min}`);
      if (this.windowStart === undefined || at - this.windowStart < window) return make('none', n, `${metric} ${round(mean)} < ${down}; waiting for a full window before scaling down`);
      return this.acted(make('scale_down', Math.max(min, n - step), `${metric} ${round(mean)} < scale_down_at ${down} for ${window} ms`), at);
    }
    return make('none', n, `${metric} ${round(mean)} within [${down}, ${up}]`);
  }

  private acted(decision: ScaleDecision, at: number): ScaleDecision {
    this.lastActionAt = at;
    this.samples = [];
    this.windowStart = undefined;
    return decision;
  }

  private nextReplacement(unhealthy: readonly string[]): string | undefined {
    for (const id of this.replacing) if (!unhealthy.includes(id)) this.replacing.delete(id);
    if (!this.config.replace_unhealthy) return undefined;
    const id = unhealthy.find((candidate) => !this.replacing.has(candidate));
    if (id !== undefined) this.replacing.add(id);
    return id;
  }

  private record(at: number, value: number): void {
    this.windowStart ??= at;
    this.samples.push({ at, value });
    const from = at - this.config.window;
    let drop = 0;
    while (drop < this.samples.length && (this.samples[drop] as { at: number }).at < from) drop++;
    if (this.samples.length - drop > MAX_SAMPLES) drop = this.samples.length - MAX_SAMPLES;
    if (drop > 0) this.samples.splice(0, drop);
  }

  private mean(): number | undefined {
    if (this.samples.length === 0) return undefined;
    let sum = 0;
    for (const sample of this.samples) sum += sample.value;
    return sum / this.samples.length;
  }

  private valueOf(sample: AutoscaleSample): number {
    if (!Number.isInteger(sample.replicas) || sample.replicas < 0) {
      throw hsuError('AUTOSCALE_SAMPLE_INVALID', `sample.replicas must be an integer >= 0, got ${String(sample.replicas)}`, { service: this.service, field: 'replicas' });
    }
    const metric = this.config.metric;
    const raw = metric === 'inflight_per_replica' ? sample.inflight : metric === 'queue_depth' ? sample.queue_depth : sample.cpu_percent;
    const field = metric === 'inflight_per_replica' ? 'inflight' : metric;
    if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) {
      throw hsuError('AUTOSCALE_SAMPLE_INVALID', `the autoscaler of ${this.service} scales on ${metric}: sample.${field} must be a number >= 0, got ${String(raw)}`, {
        service: this.service,
        field,
      });
    }
    return metric === 'inflight_per_replica' ? raw / Math.max(1, sample.replicas) : raw;
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
