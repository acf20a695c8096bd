/**
 * The router's view of each service it has routed to (hsu/mesh): instances and healthy ones, and
 * per replica the balancer's picks, the failures it saw and the calls in flight. This is where a
 * routed call's replica shows (the call metrics record it under `worker_id="_routed"`: the call
 * middleware runs before the pick). The balancer's counts begin again when a service's route is
 * reconfigured (a reload): a counter reset, as Prometheus expects of counters.
 */
import type { ServiceDiagnostics } from '../../mesh/router/index.js';
import { labelText, withLabels, type Exposition } from './exposition.js';

export function writeServiceFamilies(out: Exposition, services: readonly ServiceDiagnostics[]): void {
  const labels = services.map((s) => labelText({ service: s.service }));
  out.family('hsu_service_instances', 'gauge', 'Instances registered for the service.');
  services.forEach((s, i) => out.sample('hsu_service_instances', labels[i]!, s.instances));
  out.family('hsu_service_healthy_instances', 'gauge', 'Instances of the service the balancer may pick.');
  services.forEach((s, i) => out.sample('hsu_service_healthy_instances', labels[i]!, s.healthy));
  const replicas = services.flatMap((s, i) => s.balancer.instances.map((instance) => ({ labels: withLabels(labels[i]!, labelText({ worker_id: instance.id })), instance, tracked: s.balancer.tracks_in_flight })));
  out.family('hsu_balancer_picks_total', 'counter', "Calls the service's balancer sent to the replica.");
  for (const r of replicas) out.sample('hsu_balancer_picks_total', r.labels, r.instance.picks);
  out.family('hsu_balancer_errors_total', 'counter', 'Failed calls the balancer saw on the replica (all of them when it tracks calls in flight; else the idempotent or guarded ones).');
  for (const r of replicas) out.sample('hsu_balancer_errors_total', r.labels, r.instance.errors);
  out.family('hsu_balancer_in_flight', 'gauge', 'Calls in flight on the replica (balancers that track them: least connections, random, or track_in_flight).');
  for (const r of replicas) if (r.tracked) out.sample('hsu_balancer_in_flight', r.labels, r.instance.in_flight);
}
