/**
 * The master's one sampling loop: every process worker's resources are read in one pass over
 * /proc per tick (ProcSampler), and each watcher hears of its own worker's sample. The timer runs
 * only while something is watched, so a master without process workers pays nothing.
 */
import { ProcSampler, type ResourceSample, type SampledCgroup } from '../os/proc-sampler.js';
import type { Identity } from '../os/proc-stat.js';

export type SampleListener = (sample: ResourceSample) => void;

export class ResourceMonitor {
  private readonly sampler: ProcSampler;
  private readonly listeners = new Map<string, SampleListener>();
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
    cpuWindowMs = 10_000,
  ) {
    this.sampler = new ProcSampler({ cpuWindowMs });
  }

  get interval(): number {
    return this.intervalMs;
  }

  /** Watches `worker`'s process (and its cgroup's members) until the returned function is called. */
  watch(worker: string, identity: Identity, cgroup: SampledCgroup | undefined, listener: SampleListener, cpuWindowMs?: number): () => void {
    this.sampler.watch(worker, identity, { ...(cgroup === undefined ? {} : { cgroup }), ...(cpuWindowMs === undefined ? {} : { cpuWindowMs }) });
    this.listeners.set(worker, listener);
    if (!this.running) {
      this.running = true;
      this.sampler.start(this.intervalMs, (samples) => this.deliver(samples), this.onError);
    }
    return () => {
      if (this.listeners.get(worker) !== listener) return;
      this.listeners.delete(worker);
      this.sampler.unwatch(worker);
      if (this.listeners.size === 0) this.stop();
    };
  }

  close(): void {
    this.listeners.clear();
    this.stop();
  }

  private stop(): void {
    this.running = false;
    this.sampler.close();
  }

  private deliver(samples: readonly ResourceSample[]): void {
    for (const sample of samples) {
      try {
        this.listeners.get(sample.worker)?.(sample);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}
