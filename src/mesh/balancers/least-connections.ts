/**
 * Least connections: the instance with the fewest calls in flight through this balancer; among
 * equals the one picked longest ago, so idle instances take turns instead of the first one taking
 * every sequential call. An indexed binary heap keyed by (in flight, last pick) makes pick, acquire
 * and release O(log n) and allocation-free.
 */
import { BaseBalancer, type InstanceRecord } from './base.js';

export class LeastConnectionsBalancer extends BaseBalancer {
  readonly strategy = 'least_connections';
  private heap: InstanceRecord[] = [];
  private sequence = 0;

  constructor(service: string) {
    super(service, true);
  }

  protected choose(): InstanceRecord {
    const top = this.heap[0] as InstanceRecord;
    top.sequence = ++this.sequence;
    return top;
  }

  protected override acquired(rec: InstanceRecord): void {
    this.down(rec.slot);
  }

  protected override releasedListed(rec: InstanceRecord): void {
    this.up(rec.slot);
  }

  protected restructure(): void {
    for (const rec of this.heap) rec.slot = -1;
    this.heap = [...this.recs];
    this.heap.forEach((rec, i) => (rec.slot = i));
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private less(a: InstanceRecord, b: InstanceRecord): boolean {
    return a.inflight < b.inflight || (a.inflight === b.inflight && a.sequence < b.sequence);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i] as InstanceRecord, heap[parent] as InstanceRecord)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      let child = left;
      if (right < n && this.less(heap[right] as InstanceRecord, heap[left] as InstanceRecord)) child = right;
      if (!this.less(heap[child] as InstanceRecord, heap[i] as InstanceRecord)) return;
      this.swap(i, child);
      i = child;
    }
  }

  private swap(i: number, j: number): void {
    const heap = this.heap;
    const a = heap[i] as InstanceRecord;
    const b = heap[j] as InstanceRecord;
    heap[i] = b;
    heap[j] = a;
    a.slot = j;
    b.slot = i;
  }
}
