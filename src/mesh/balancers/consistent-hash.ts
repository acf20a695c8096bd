/**
 * Consistent hashing on a ring with virtual nodes: each instance owns `virtual_nodes × weight`
 * points (hashes of `id:n`), a key goes to the first point at or after its hash. When an instance
 * leaves (or turns unhealthy), only its keys move, spread over the others; when it comes back, the
 * same keys return to it. The ring is rebuilt on membership change; a pick hashes the key and
 * searches one bucket of the ring (O(1) on average, O(log points) at worst), allocation-free.
 */
import { hsuError } from '../../errors.js';
import { BaseBalancer, type InstanceRecord } from './base.js';
import { hash32 } from './hash.js';

const OWNER_SPAN = 0x10000;
/** 4096 buckets by the top 12 bits of a hash: a lookup searches ~points/4096 entries instead of all. */
const BUCKET_SHIFT = 20;
const BUCKETS = 2 ** (32 - BUCKET_SHIFT);

export class ConsistentHashBalancer extends BaseBalancer {
  readonly strategy = 'consistent_hash';
  override readonly needsKey = true;
  private points = new Uint32Array(0);
  private owners = new Uint16Array(0);
  private buckets = new Uint32Array(BUCKETS + 1);

  constructor(
    service: string,
    private readonly virtualNodes: number,
    tracksInFlight: boolean,
  ) {
    super(service, tracksInFlight);
  }

  protected choose(_n: number, key: string | undefined): InstanceRecord {
    if (key === undefined) {
      throw hsuError('HASH_KEY_MISSING', `service '${this.service}' balances by consistent hashing: pass options.key or configure balancer.hash_key`, { service: this.service });
    }
    return this.recs[this.owners[this.slotOf(hash32(key))] as number] as InstanceRecord;
  }

  /** Index of the first ring point at or after `h`, wrapping to 0. */
  private slotOf(h: number): number {
    const points = this.points;
    // The bucket of h's top bits bounds the search to the few points that share them.
    const bucket = h >>> BUCKET_SHIFT;
    let lo = this.buckets[bucket] as number;
    let hi = this.buckets[bucket + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((points[mid] as number) < h) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }

  /** A retry goes to the next instance clockwise that the call has not failed on: where the key would go if those left. */
  protected override chooseAvoiding(n: number, key: string | undefined, avoid: readonly string[]): InstanceRecord {
    const first = this.choose(n, key);
    if (!avoid.includes(first.instance.id)) return first;
    const start = this.slotOf(hash32(key as string));
    for (let step = 1; step < this.points.length; step++) {
      const rec = this.recs[this.owners[(start + step) % this.points.length] as number] as InstanceRecord;
      if (!avoid.includes(rec.instance.id)) return rec;
    }
    return first;
  }

  protected restructure(): void {
    const recs = this.recs.slice(0, OWNER_SPAN);
    let total = 0;
    for (const rec of recs) total += this.virtualNodes * rec.instance.weight;
    // point × 2^16 + owner is exact in a double (< 2^48): one native numeric sort orders both.
    const packed = new Float64Array(total);
    let k = 0;
    recs.forEach((rec, owner) => {
      const count = this.virtualNodes * rec.instance.weight;
      for (let v = 0; v < count; v++) packed[k++] = hash32(`${rec.instance.id}:${v}`) * OWNER_SPAN + owner;
    });
    packed.sort();
    this.points = new Uint32Array(total);
    this.owners = new Uint16Array(total);
    for (let i = 0; i < total; i++) {
      const value = packed[i] as number;
      this.points[i] = Math.floor(value / OWNER_SPAN);
      this.owners[i] = value % OWNER_SPAN;
    }
    // buckets[b] = index of the first point whose top bits are >= b; buckets[BUCKETS] = total.
    this.buckets = new Uint32Array(BUCKETS + 1);
    let k2 = 0;
    for (let b = 0; b <= BUCKETS; b++) {
      while (k2 < total && (this.points[k2] as number) >>> BUCKET_SHIFT < b) k2++;
      this.buckets[b] = k2;
    }
  }
}

/**
 * Reads the hash key of a call: `options.key` if given, else the value at the dotted `path` of the
 * input (strings as they are, numbers and booleans as text). Undefined when there is none.
 */
export function hashKeyOf(input: unknown, path: readonly string[] | undefined): string | undefined {
  if (path === undefined) return undefined;
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return undefined;
}
