/**
 * The metrics of one master, served as `GET /metrics`: per-worker families kept from the master's
 * events, call counts and latency recorded by the call middleware, the master's own Node process
 * metrics, and anything registered in {@link MasterMetrics.registry} (prom-client metrics of the
 * embedding program).
 *
 * prom-client (with the @opentelemetry/api it loads) costs ~17 MB of RSS at import, and hsu writes
 * its own families itself: it is loaded when something needs it, the registry of your own metrics
 * on first access, the Node metrics at the first scrape (their GC and event-loop collectors count
 * from then on; process_cpu_seconds_total and the memory figures are totals and lose nothing).
 */
import type { Registry } from 'prom-client';
import { promClientLib } from '../../lazy-libs.js';
import type { Master } from '../../master/master.js';
import { metricsSettingsSchema, parseSettings, type MetricsSettings, type MetricsSettingsInput } from '../config.js';
import { WorkerFactsTable } from '../worker-facts.js';
import { CallStats } from './call-stats.js';
import { CallTargets } from './call-targets.js';
import { ModuleKinds } from './module-kinds.js';
import { writeServiceFamilies } from './service-families.js';
import { Exposition, PROMETHEUS_CONTENT_TYPE, writeRegistry } from './exposition.js';
import { gatherUsage, writeWorkerFamilies } from './worker-families.js';

export class MasterMetrics {
  readonly contentType = PROMETHEUS_CONTENT_TYPE;
  private ownRegistry: Registry | undefined;
  readonly settings: MetricsSettings;
  private readonly facts: WorkerFactsTable;
  private readonly calls: CallStats;
  private readonly targets: CallTargets;
  private readonly kinds: ModuleKinds;
  private readonly offRemoved: () => void;
  /** A worker was removed since the last scrape: routed series of services gone with it are dropped then. */
  private removedSinceScrape = false;
  private closed = false;

  /** Starts keeping the metrics of `master` (its workers so far are read once from their diagnostics). */
  constructor(
    private readonly master: Master,
    settings: MetricsSettingsInput = {},
  ) {
    this.settings = parseSettings(metricsSettingsSchema, settings, 'master.metrics');
    this.facts = new WorkerFactsTable(master);
    this.targets = new CallTargets(master);
    this.kinds = new ModuleKinds(master, (id) => this.facts.get(id));
    this.calls = new CallStats(this.settings.max_actions_per_worker, (target) => this.targets.resolve(target));
    this.offRemoved = master.on('removed', (e) => {
      this.calls.forget(e.worker_id);
      this.removedSinceScrape = true;
    });
  }

  /** prom-client metrics of your own, rendered with hsu's (prom-client loads on first access). */
  get registry(): Registry {
    return (this.ownRegistry ??= new (promClientLib().Registry)());
  }

  /** Records one `master.call` (the call middleware does this for every call). */
  recordCall(target: string, action: string, ok: boolean, seconds: number, code?: string): void {
    if (!this.closed) this.calls.record(target, action, ok, seconds, code);
  }

  /** The Prometheus text exposition; the work is spread over event-loop turns. */
  async render(): Promise<string> {
    return (await this.renderChunks()).join('');
  }

  /** The exposition in chunks of a few thousand lines (what GET /metrics streams, so no 2.6 MiB string is ever joined). */
  async renderChunks(): Promise<readonly string[]> {
    const out = new Exposition();
    out.family('hsu_master_workers', 'gauge', 'Workers (replicas) the master supervises.');
    out.sample('hsu_master_workers', '', this.facts.size);
    const usage = await gatherUsage(this.master, this.facts);
    await writeWorkerFamilies(out, [...this.facts.all()], usage, Date.now());
    if (this.removedSinceScrape) {
      this.removedSinceScrape = false;
      this.calls.forgetServices(this.targets.servedServices());
    }
    await this.calls.write(out);
    const routes = this.master.services.router.diagnostics();
    if (routes.length > 0) {
      // The router keeps the route of a service that nothing serves any more: its series end with the service.
      const served = this.targets.servedServices();
      writeServiceFamilies(out, routes.filter((r) => served(r.service)));
    }
    if (this.ownRegistry !== undefined) await writeRegistry(out, this.ownRegistry);
    if (this.settings.node) await writeRegistry(out, (await import('./node-metrics.js')).nodeMetricsRegistry());
    return out.chunks();
  }

  /** Stops listening to the master; idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.offRemoved();
    this.targets.close();
    this.kinds.close();
    this.facts.close();
    this.calls.clear();
    this.ownRegistry?.clear();
  }
}
