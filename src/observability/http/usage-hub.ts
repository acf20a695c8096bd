/**
 * CPU and memory of the master and its workers, sampled every couple of seconds while someone
 * watches (the dashboard's charts, `hsu monit`) and pushed to every watcher as one frame: one
 * sampling loop per master however many watch, none when nobody does.
 */
import type { Master } from '../../master/master.js';
import { gatherUsage } from '../metrics/worker-families.js';
import { WorkerFactsTable } from '../worker-facts.js';

export const USAGE_INTERVAL_MS = 2_000;

export interface WorkerUsage {
  readonly cpu_percent: number | null;
  readonly rss_bytes: number | null;
  readonly heap_used_bytes: number | null;
}

export interface UsageFrame {
  /** Epoch ms of the sample. */
  readonly at: number;
  readonly interval_ms: number;
  readonly master: WorkerUsage;
  readonly workers: Readonly<Record<string, WorkerUsage>>;
}

type Watcher = (frame: UsageFrame) => void;

const hubs = new WeakMap<Master, UsageHub>();

export function usageHubOf(master: Master): UsageHub {
  let hub = hubs.get(master);
  if (hub === undefined) hubs.set(master, (hub = new UsageHub(master)));
  return hub;
}

export class UsageHub {
  private readonly watchers = new Set<Watcher>();
  private facts: WorkerFactsTable | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private last: { at: number; master: NodeJS.CpuUsage; cpu: Map<string, number> } | undefined;
  private latest: UsageFrame | undefined;

  constructor(
    private readonly master: Master,
    private readonly intervalMs = USAGE_INTERVAL_MS,
  ) {}

  /** Delivers every frame (the latest one at once, if any) until the returned function is called. */
  watch(watcher: Watcher): () => void {
    this.watchers.add(watcher);
    if (this.latest !== undefined) watcher(this.latest);
    if (this.timer === undefined) {
      this.facts = new WorkerFactsTable(this.master);
      this.timer = setInterval(() => void this.sample(), this.intervalMs);
      void this.sample();
    }
    return () => {
      if (!this.watchers.delete(watcher) || this.watchers.size > 0) return;
      clearInterval(this.timer);
      this.timer = undefined;
      this.facts?.close();
      this.facts = undefined;
      this.last = undefined;
      this.latest = undefined;
    };
  }

  get watching(): number {
    return this.watchers.size;
  }

  private async sample(): Promise<void> {
    const facts = this.facts;
    if (facts === undefined || this.sampling) return;
    this.sampling = true;
    try {
      const usage = await gatherUsage(this.master, facts);
      if (this.facts !== facts) return; // nobody watches any more
      const at = Date.now();
      const cpuNow = process.cpuUsage();
      const previous = this.last;
      const elapsed = previous === undefined ? 0 : (at - previous.at) / 1000;
      const percent = (seconds: number | undefined, before: number | undefined): number | null =>
        seconds === undefined || before === undefined || elapsed <= 0 ? null : Math.max(0, Math.round(((seconds - before) / elapsed) * 1000) / 10);
      const cpu = new Map<string, number>();
      const workers: Record<string, WorkerUsage> = {};
      for (const [id, u] of usage) {
        if (u.process !== undefined) cpu.set(id, u.process.cpu_seconds);
        workers[id] = { cpu_percent: percent(u.process?.cpu_seconds, previous?.cpu.get(id)), rss_bytes: u.process?.rss_bytes ?? null, heap_used_bytes: u.heap?.used_bytes ?? null };
      }
      const memory = process.memoryUsage();
      const masterSeconds = (cpuNow.user + cpuNow.system) / 1e6;
      const masterBefore = previous === undefined ? undefined : (previous.master.user + previous.master.system) / 1e6;
      const frame: UsageFrame = {
        at,
        interval_ms: this.intervalMs,
        master: { cpu_percent: percent(masterSeconds, masterBefore), rss_bytes: memory.rss, heap_used_bytes: memory.heapUsed },
        workers,
      };
      this.last = { at, master: cpuNow, cpu };
      this.latest = frame;
      for (const watcher of [...this.watchers]) watcher(frame);
    } finally {
      this.sampling = false;
    }
  }
}
