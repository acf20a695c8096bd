/**
 * Circuit breakers of one service, one per instance (cockatiel's CircuitBreakerPolicy): a failing
 * replica is shut out while its siblings keep serving, as Envoy's outlier ejection does. An open
 * breaker makes its instance ineligible for picks until `half_open_after` has passed; then one
 * probe call decides. `generation` changes with every state change so the router can cache the
 * eligible list and check it with one integer comparison per call.
 */
import type { CircuitBreakerPolicy, CircuitState, IDisposable, Policy } from 'cockatiel';
import { hsuError } from '../../errors.js';
import { cockatielLib } from '../../lazy-libs.js';
import { countsAgainstInstance } from './classify.js';
import type { CircuitBreakerConfig } from './schema.js';

export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

export interface CircuitStateEvent {
  readonly type: 'circuit_state';
  readonly service: string;
  readonly instance_id: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  readonly at: number;
}

export interface BreakerDiagnostics {
  readonly state: BreakerState;
  readonly opened_at?: number;
  readonly reopen_at?: number;
}

let stateNames: Record<CircuitState, BreakerState> | undefined;

/** cockatiel's state enum in our words; made with the first breaker (cockatiel loads only for a service that has one). */
function stateName(state: CircuitState): BreakerState {
  const { CircuitState: S } = cockatielLib();
  stateNames ??= { [S.Closed]: 'closed', [S.Open]: 'open', [S.HalfOpen]: 'half_open', [S.Isolated]: 'isolated' };
  return stateNames[state];
}

interface Entry {
  readonly policy: CircuitBreakerPolicy;
  listener: IDisposable | undefined;
  state: BreakerState;
  openedAt: number;
}

export class BreakerSet {
  /** Bumped on every state change of any breaker in the set. */
  generation = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly policyFilter: Policy = cockatielLib().handleWhen(countsAgainstInstance);

  constructor(
    private readonly service: string,
    private readonly config: CircuitBreakerConfig,
    private readonly emit: (event: CircuitStateEvent) => void,
  ) {}

  /** Runs `fn` through `key`'s breaker; an open one throws CIRCUIT_OPEN (scope `instance`) without calling it. */
  async execute<T>(key: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const entry = this.entries.get(key) ?? this.create(key);
    try {
      return await entry.policy.execute(fn, signal);
    } catch (error) {
      if (!cockatielLib().isBrokenCircuitError(error)) throw error;
      throw hsuError('CIRCUIT_OPEN', `the circuit breaker of ${this.service} instance '${key}' is ${entry.state}`, {
        service: this.service,
        instance_id: key,
        scope: 'instance',
        state: entry.state,
      });
    }
  }

  /** True while `key` must not be picked: open (or isolated) and not yet due for a probe. */
  blocked(key: string, now: number): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    if (entry.state === 'isolated') return true;
    return entry.state === 'open' && now < entry.openedAt + this.config.half_open_after;
  }

  /** The earliest time a blocked breaker becomes due for a probe (Infinity if none is open). */
  nextProbeAt(): number {
    let at = Infinity;
    for (const entry of this.entries.values()) if (entry.state === 'open') at = Math.min(at, entry.openedAt + this.config.half_open_after);
    return at;
  }

  state(key: string): BreakerState {
    return this.entries.get(key)?.state ?? 'closed';
  }

  /** Holds `key` open until the handle is disposed (an operator draining a replica). */
  isolate(key: string): { dispose(): void } {
    return (this.entries.get(key) ?? this.create(key)).policy.isolate();
  }

  /** Drops breakers whose instance is gone, so a churning service does not grow the set. */
  retain(keep: (key: string) => boolean): void {
    for (const [key, entry] of this.entries) {
      if (keep(key)) continue;
      entry.listener?.dispose();
      this.entries.delete(key);
      this.generation++;
    }
  }

  diagnostics(): Record<string, BreakerDiagnostics> {
    const out: Record<string, BreakerDiagnostics> = {};
    for (const [key, entry] of this.entries) {
      out[key] = entry.state === 'open' ? { state: entry.state, opened_at: entry.openedAt, reopen_at: entry.openedAt + this.config.half_open_after } : { state: entry.state };
    }
    return out;
  }

  close(): void {
    this.retain(() => false);
  }

  private create(key: string): Entry {
    const breaker =
      this.config.consecutive !== undefined
        ? new (cockatielLib().ConsecutiveBreaker)(this.config.consecutive)
        : new (cockatielLib().SamplingBreaker)({
            threshold: this.config.sampled?.threshold ?? 0.5,
            duration: this.config.sampled?.window ?? 10_000,
            // cockatiel counts throughput per second; the config says calls per window.
            minimumRps: (this.config.sampled?.min_throughput ?? 10) / ((this.config.sampled?.window ?? 10_000) / 1_000),
          });
    const policy = cockatielLib().circuitBreaker(this.policyFilter, { breaker, halfOpenAfter: this.config.half_open_after });
    const entry: Entry = { policy, state: 'closed', openedAt: 0, listener: undefined };
    entry.listener = policy.onStateChange((next) => {
      const from = entry.state;
      entry.state = stateName(next);
      if (entry.state === 'open') entry.openedAt = Date.now();
      this.generation++;
      this.emit({ type: 'circuit_state', service: this.service, instance_id: key, from, to: entry.state, at: Date.now() });
    });
    this.entries.set(key, entry);
    return entry;
  }
}
