/**
 * Smooth weighted round robin (nginx): every pick adds each weight to its instance's current value,
 * takes the largest and subtracts the total from it, so weights 5:1:1 give a a b a c a a, spread
 * out rather than in bursts. The sequence of one cycle is precomputed on membership change, which
 * makes a pick O(1); a cycle longer than MAX_SCHEDULE (large, co-prime weights) is picked live, O(n).
 */
import { BaseBalancer, type InstanceRecord } from './base.js';

const MAX_SCHEDULE = 4_096;

export class WeightedBalancer extends BaseBalancer {
  readonly strategy = 'weighted';
  private schedule: Uint16Array | undefined;
  private cursor = 0;
  private total = 0;

  protected choose(n: number): InstanceRecord {
    const schedule = this.schedule;
    if (schedule === undefined) return this.live(n);
    let i = this.cursor;
    if (i >= schedule.length) i = 0;
    this.cursor = i + 1;
    return this.recs[schedule[i] as number] as InstanceRecord;
  }

  protected restructure(): void {
    const recs = this.recs;
    this.total = 0;
    let divisor = 0;
    for (const rec of recs) {
      rec.current = 0;
      this.total += rec.instance.weight;
      divisor = gcd(divisor, rec.instance.weight);
    }
    const length = divisor === 0 ? 0 : this.total / divisor;
    this.cursor = 0;
    if (length === 0 || length > MAX_SCHEDULE || recs.length > 0xffff) {
      this.schedule = undefined;
      return;
    }
    const schedule = new Uint16Array(length);
    for (let k = 0; k < length; k++) schedule[k] = this.smoothStep(recs.length);
    for (const rec of recs) rec.current = 0;
    this.schedule = schedule;
  }

  private live(n: number): InstanceRecord {
    return this.recs[this.smoothStep(n)] as InstanceRecord;
  }

  /** One step of nginx's algorithm; returns the index chosen. */
  private smoothStep(n: number): number {
    const recs = this.recs;
    let best = 0;
    let bestValue = -Infinity;
    for (let i = 0; i < n; i++) {
      const rec = recs[i] as InstanceRecord;
      rec.current += rec.instance.weight;
      if (rec.current > bestValue) {
        bestValue = rec.current;
        best = i;
      }
    }
    (recs[best] as InstanceRecord).current -= this.total;
    return best;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
