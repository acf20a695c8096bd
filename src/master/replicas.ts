/**
 * Building one replica of a worker: its runtime (from the registry), its watchdogs (health,
 * schedule, resources and limits, the master's extra ones), its readiness probe and its
 * controller. Every replica of a worker is built the same way; only its id and (for an integrated
 * worker with a fixed port) its port differ.
 */
import type { Logger } from 'pino';
import { DEFAULTS, parseDuration, type ReadinessConfig, type WorkerConfig } from '../config/index.js';
import type { ProbeRegistry } from '../health/registry.js';
import { WorkerController } from '../lifecycle/controller.js';
import type { ControllerEmit } from '../lifecycle/events.js';
import { HealthWatchdog } from '../lifecycle/health-watchdog.js';
import { pollReadiness } from '../lifecycle/readiness.js';
import { DEFAULT_RESTART_POLICY } from '../lifecycle/restart-policy.js';
import { ScheduleWatchdog } from '../lifecycle/schedule-watchdog.js';
import type { Watchdog } from '../lifecycle/watchdog.js';
import type { ResourceMonitor } from '../limits/resource-monitor.js';
import { ResourcesWatchdog } from '../limits/resources-watchdog.js';
import type { RuntimeContext, RuntimeRegistry } from '../runtimes/registry.js';
import type { Replica, WorkerGroup } from './worker-table.js';

/** Builds extra watchdogs for a worker (resource limits, schedules); undefined when none applies. */
export type WatchdogFactory = (config: WorkerConfig) => Watchdog | undefined;

export interface ReplicaDeps {
  readonly runtimes: RuntimeRegistry;
  readonly probes: ProbeRegistry;
  readonly context: RuntimeContext;
  readonly watchdogFactories: readonly WatchdogFactory[];
  readonly resources: ResourceMonitor;
  readonly emit: ControllerEmit;
  readonly logger: Logger;
}

/** Whether a worker's replicas are numbered `<id>#<n>` (several, or autoscaled). */
export function numbered(config: WorkerConfig): boolean {
  return config.instances > 1 || config.autoscale !== undefined;
}

/** The config a replica runs: its own id; an integrated fixed port offset by its index. */
export function replicaConfig(group: WorkerGroup, index: number): WorkerConfig {
  const config = group.config;
  const id = group.numbered ? `${config.id}#${index}` : config.id;
  if (config.type === 'process' && config.management === 'integrated' && config.integration !== undefined && config.integration.port !== 0) {
    return { ...config, id, integration: { ...config.integration, port: config.integration.port + index } };
  }
  return { ...config, id };
}

export function buildReplica(group: WorkerGroup, index: number, deps: ReplicaDeps): Replica {
  const config = replicaConfig(group, index);
  const runtime = deps.runtimes.resolve(config).create(config, deps.context);
  const logger = deps.logger.child({ worker: config.id });
  const health = new HealthWatchdog(config.id, config.health_check, (check, instance) => deps.probes.create(check, { workerId: config.id, instance }), deps.emit);
  const watchdogs = deps.watchdogFactories.map((factory) => factory(config)).filter((w): w is Watchdog => w !== undefined);
  if (config.restart_schedule !== undefined) watchdogs.push(new ScheduleWatchdog(config.restart_schedule));
  watchdogs.push(new ResourcesWatchdog(config.id, deps.resources, config.type === 'process' ? config.limits : undefined));
  const readiness = readinessOf(config);
  const controller = new WorkerController({
    id: config.id,
    type: config.type,
    runtime,
    logger,
    emit: deps.emit,
    startTimeoutMs: config.start_timeout,
    stopTimeoutMs: config.stop_timeout,
    stopSignal: config.stop_signal as NodeJS.Signals,
    restart: config.restart ?? DEFAULT_RESTART_POLICY,
    health,
    watchdogs,
    ...(readiness === undefined ? {} : { readiness: pollReadiness(config.id, readiness, (instance) => deps.probes.create(readiness, { workerId: config.id, instance })) }),
    enabled: () => group.config.enabled,
  });
  return { id: config.id, index, group, config, controller, runtime };
}

/** The readiness probe of a worker: its own `readiness` block, or for an integrated worker a connect to its port. */
function readinessOf(config: WorkerConfig): ReadinessConfig | undefined {
  if (config.readiness !== undefined) return config.readiness;
  if (config.type !== 'process' || config.management !== 'integrated') return undefined;
  const r = DEFAULTS.readiness;
  return {
    type: 'tcp',
    host: config.integration?.host ?? DEFAULTS.integration.host,
    interval: parseDuration(r.interval),
    timeout: parseDuration(r.timeout),
    failure_threshold: undefined, // retried until the start timeout: a server still starting refuses connections
    success_threshold: r.success_threshold,
    initial_delay: 0,
  };
}
