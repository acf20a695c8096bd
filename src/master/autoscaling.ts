/**
 * `autoscale:` on a worker: an AutoscaleLoop (hsu/core) samples the worker's replicas (calls in
 * flight through the router, a command worker's lag, CPU from the resource sampler, unhealthy
 * ones) and the master carries out its decisions: start a replica, take one out of the balancer and stop it (one not serving first, else the newest),
 * replace an unhealthy one. Every decision is an event with its reason.
 */
import type { Logger } from 'pino';
import { Autoscaler } from '../mesh/autoscaler/autoscaler.js';
import type { AutoscaleSample, ScaleDecision } from '../mesh/autoscaler/autoscaler.js';
import { AutoscaleLoop } from '../mesh/autoscaler/loop.js';
import type { WorkerState } from '../lifecycle/states.js';
import type { WorkerGroup } from './worker-table.js';

export interface ScalingHost {
  readonly logger: Logger;
  inFlight(service: string): number;
  addReplica(group: WorkerGroup): Promise<void>;
  removeOne(group: WorkerGroup): Promise<void>;
  replace(replicaId: string): Promise<void>;
  decided(decision: ScaleDecision): void;
}

export function startAutoscaling(group: WorkerGroup, service: string, host: ScalingHost): AutoscaleLoop | undefined {
  const config = group.config.autoscale;
  if (config === undefined) return undefined;
  const autoscaler = new Autoscaler(service, config, { where: `workers.${group.id}.autoscale` });
  const loop = new AutoscaleLoop({
    autoscaler,
    // Several samples per window, never more often than every 100 ms.
    interval: Math.max(100, Math.min(1_000, Math.floor(config.window / 5))),
    sample: () => sample(group, service, host),
    apply: (decision) => apply(group, decision, host),
    on_error: (err) => host.logger.warn({ err, worker: group.id }, 'autoscaling step failed'),
  });
  loop.start();
  return loop;
}

/**
 * Replicas its lifecycle brings back by itself (a restart after a crash or a failed probe): still
 * the pool's. Counting only running ones would add a replica for every routine restart and leave
 * one too many once it is back; a replica that ended for good (failed, stopped) is not counted, so
 * the pool is refilled to `min`.
 */
const RETURNING: ReadonlySet<WorkerState> = new Set<WorkerState>(['starting', 'stopping', 'waiting_restart']);

function sample(group: WorkerGroup, service: string, host: ScalingHost): AutoscaleSample {
  let replicas = 0;
  let cpu = 0;
  let cpuSamples = 0;
  let lag = 0;
  let lagSeen = false;
  const unhealthy: string[] = [];
  for (const replica of group.replicas) {
    const state = replica.controller.state;
    if (state !== 'running') {
      if (RETURNING.has(state)) replicas += 1;
      continue;
    }
    replicas += 1;
    const d = replica.controller.diagnostics();
    if (d.health.status === 'unhealthy') unhealthy.push(replica.id);
    const usage = (d.watchdogs.resources as { cpu_percent?: number | null } | undefined)?.cpu_percent;
    if (typeof usage === 'number') {
      cpu += usage;
      cpuSamples += 1;
    }
    const facts = (d.details as { module_diagnostics?: { lag?: unknown } | null }).module_diagnostics;
    if (typeof facts?.lag === 'number') {
      lag += facts.lag;
      lagSeen = true;
    }
  }
  return {
    replicas,
    inflight: host.inFlight(service),
    ...(lagSeen ? { queue_depth: lag } : {}),
    ...(cpuSamples > 0 ? { cpu_percent: cpu / cpuSamples } : {}),
    unhealthy,
  };
}

async function apply(group: WorkerGroup, decision: ScaleDecision, host: ScalingHost): Promise<void> {
  host.decided(decision);
  if (decision.action === 'replace' && decision.instance_id !== undefined) return host.replace(decision.instance_id);
  const steps = Math.abs(decision.to - decision.from);
  for (let i = 0; i < steps; i++) {
    if (decision.action === 'scale_up') await host.addReplica(group);
    else if (decision.action === 'scale_down') await host.removeOne(group);
  }
}
