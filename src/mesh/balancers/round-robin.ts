/** Round robin: each eligible instance in turn. O(1), allocation-free. */
import { BaseBalancer, type InstanceRecord } from './base.js';

export class RoundRobinBalancer extends BaseBalancer {
  readonly strategy = 'round_robin';
  private cursor = 0;

  protected choose(n: number): InstanceRecord {
    let i = this.cursor;
    if (i >= n) i = 0;
    this.cursor = i + 1;
    return this.recs[i] as InstanceRecord;
  }

  protected restructure(): void {
    // Keep the cursor: a joining or leaving instance should not send the next picks back to the first.
  }
}
