/**
 * What every strategy shares: noticing a new instance list (by identity, so the check is free),
 * keeping only the eligible instances (healthy, weight > 0), one record per instance that outlives
 * list changes (stats and in-flight counts survive a health flap), and the lease bookkeeping.
 * A strategy implements `choose` (the O(1)/O(log n) part) and `restructure` (on membership change).
 */
import { hsuError } from '../../errors.js';
import { noteFailedInstance } from '../failed-instance.js';
import type { ServiceInstance } from '../registry/schema.js';
import type { Balancer, BalancerStats, InstanceStats, Lease } from './types.js';

export class InstanceRecord implements Lease {
  instance: ServiceInstance;
  picks = 0;
  inflight = 0;
  errors = 0;
  /** In the current eligible list. */
  listed = false;
  /** Strategy scratch: heap slot (least connections), pick sequence, smooth-weighted current weight. */
  slot = -1;
  sequence = 0;
  current = 0;
  readonly onResolve: (value: unknown) => unknown;
  readonly onReject: (error: unknown) => never;
  private readonly releaseOk: () => void;
  private readonly releaseFailed: (error: unknown) => void;

  constructor(
    instance: ServiceInstance,
    private readonly owner: BaseBalancer,
  ) {
    this.instance = instance;
    this.onResolve = (value) => {
      this.release(false);
      return value;
    };
    this.onReject = (error) => {
      noteFailedInstance(error, this.instance.id);
      this.release(true);
      throw error;
    };
    this.releaseOk = () => this.release(false);
    this.releaseFailed = (error) => {
      noteFailedInstance(error, this.instance.id);
      this.release(true);
    };
  }

  watch(promise: Promise<unknown>): void {
    void promise.then(this.releaseOk, this.releaseFailed);
  }

  release(failed = false): void {
    if (this.owner.tracksInFlight) this.inflight--;
    if (failed) this.errors++;
    this.owner.released(this);
  }
}

const eligible = (instance: ServiceInstance): boolean => instance.health === 'healthy' && instance.weight > 0;

export abstract class BaseBalancer implements Balancer {
  abstract readonly strategy: string;
  readonly needsKey: boolean = false;
  readonly tracksInFlight: boolean;
  /** Eligible records, in list order; strategies index into it. */
  protected recs: InstanceRecord[] = [];
  private readonly records = new Map<string, InstanceRecord>();
  private seen: readonly ServiceInstance[] | undefined;
  private seenLength = -1;
  private shape = '';

  constructor(
    readonly service: string,
    tracksInFlight: boolean,
  ) {
    this.tracksInFlight = tracksInFlight;
  }

  pick(instances: readonly ServiceInstance[], key?: string, avoid?: readonly string[]): Lease {
    if (instances !== this.seen || instances.length !== this.seenLength) this.sync(instances);
    const n = this.recs.length;
    if (n === 0) throw this.noneEligible(instances);
    const rec = avoid === undefined || avoid.length === 0 || n === 1 ? this.choose(n, key) : this.chooseAvoiding(n, key, avoid);
    rec.picks++;
    if (this.tracksInFlight) {
      rec.inflight++;
      this.acquired(rec);
    }
    return rec;
  }

  inFlight(id: string): number {
    return this.records.get(id)?.inflight ?? 0;
  }

  stats(): BalancerStats {
    const instances: InstanceStats[] = [];
    let picks = 0;
    let inFlight = 0;
    let errors = 0;
    for (const rec of this.records.values()) {
      instances.push({ id: rec.instance.id, picks: rec.picks, in_flight: rec.inflight, errors: rec.errors });
      picks += rec.picks;
      inFlight += rec.inflight;
      errors += rec.errors;
    }
    return { service: this.service, strategy: this.strategy, tracks_in_flight: this.tracksInFlight, picks, in_flight: inFlight, errors, instances };
  }

  /** Called by a record's release; unlisted records with nothing in flight are forgotten. */
  released(rec: InstanceRecord): void {
    if (rec.listed) this.releasedListed(rec);
    else if (rec.inflight <= 0) this.records.delete(rec.instance.id);
  }

  protected abstract choose(n: number, key: string | undefined): InstanceRecord;

  /**
   * A retry's pick: the strategy's choice unless it is one the call already failed on; then the
   * strategy again (round robin moves on, random draws anew), then any other eligible instance.
   * If every instance failed already, the strategy's choice stands.
   */
  protected chooseAvoiding(n: number, key: string | undefined, avoid: readonly string[]): InstanceRecord {
    const first = this.choose(n, key);
    if (!avoid.includes(first.instance.id)) return first;
    for (let k = 1; k < n; k++) {
      const again = this.choose(n, key);
      if (!avoid.includes(again.instance.id)) return again;
    }
    return this.recs.find((rec) => !avoid.includes(rec.instance.id)) ?? first;
  }
  /** Membership or weights changed: rebuild the strategy's structure over `recs`. */
  protected abstract restructure(): void;
  protected acquired(_rec: InstanceRecord): void {}
  protected releasedListed(_rec: InstanceRecord): void {}

  private sync(instances: readonly ServiceInstance[]): void {
    this.seen = instances;
    this.seenLength = instances.length;
    const next: InstanceRecord[] = [];
    let shape = '';
    for (const instance of instances) {
      if (!eligible(instance)) continue;
      let rec = this.records.get(instance.id);
      if (rec === undefined) {
        rec = new InstanceRecord(instance, this);
        this.records.set(instance.id, rec);
      }
      rec.instance = instance;
      next.push(rec);
      shape += `${instance.id}\u0000${instance.weight}\u0000`;
    }
    for (const rec of this.recs) rec.listed = false;
    for (const rec of next) rec.listed = true;
    for (const [id, rec] of this.records) if (!rec.listed && rec.inflight <= 0) this.records.delete(id);
    if (shape === this.shape && next.length === this.recs.length) {
      // Same members and weights (a load or metadata update): keep the structure, refresh snapshots only.
      return;
    }
    this.shape = shape;
    this.recs = next;
    this.restructure();
  }

  private noneEligible(instances: readonly ServiceInstance[]): Error {
    const healthy = instances.filter((instance) => instance.health === 'healthy').length;
    const why = instances.length === 0 ? 'no instance is registered' : healthy === 0 ? `none of its ${instances.length} instance(s) is healthy` : `its ${healthy} healthy instance(s) all have weight 0`;
    return hsuError('NO_HEALTHY_INSTANCE', `service '${this.service}' cannot be called: ${why}`, { service: this.service, instances: instances.length, healthy });
  }
}
