// YAML snippets of the scenarios: a worker running the replica fixture in a given deployment, and
// the trio of one inline, one thread and one hosted-process worker sharing one `service.name`.
import type { Paths } from './helpers.js';

export type Deployment = 'inline' | 'thread' | 'process';
export const DEPLOYMENTS: readonly Deployment[] = ['inline', 'thread', 'process'];

export interface WorkerYaml {
  readonly id: string;
  readonly deployment: Deployment;
  /** Extra keys of the worker, as YAML lines indented by four spaces (`instances: 3`, `balancer: {...}`). */
  readonly extra?: string;
  /** The fixture's `config:` beside `flags` (e.g. `ms: 40`). */
  readonly config?: string;
}

/** One worker entry of the `workers:` list running the replica fixture. */
export function replicaWorker(p: Paths, w: WorkerYaml): string {
  const type = w.deployment === 'process' ? 'process' : 'module';
  const isolation = w.deployment === 'thread' ? ', isolation: thread' : '';
  const config = `{ flags: ${JSON.stringify(p.flags)}${w.config === undefined ? '' : `, ${w.config}`} }`;
  return [
    `  - id: ${w.id}`,
    `    type: ${type}`,
    `    module: { module_type: plugin, module_path: ${JSON.stringify(p.replica)}${isolation}, config: ${config} }`,
    ...(w.extra === undefined ? [] : [w.extra.replace(/^\n/, '').replace(/\n$/, '')]),
    '',
  ].join('\n');
}

/**
 * `<service>-inline`, `<service>-thread` and `<service>-process`, all registered as `service`.
 * `first` goes to the first worker only (the service's balancer and resilience blocks: one worker
 * declaring them configures the service); `each(deployment)` gives a worker more keys of its
 * `service:` block (`weight: 3`), more worker keys, or more fixture config.
 */
export function trio(p: Paths, service: string, first: string, each: (d: Deployment) => { service?: string; extra?: string; config?: string } = () => ({})): string {
  return DEPLOYMENTS.map((deployment, i) => {
    const own = each(deployment);
    const lines = [`    service: { name: ${service}${own.service === undefined ? '' : `, ${own.service}`} }`, ...(i === 0 && first !== '' ? [first] : []), ...(own.extra === undefined ? [] : [own.extra])];
    return replicaWorker(p, { id: `${service}-${deployment}`, deployment, extra: lines.join('\n'), ...(own.config === undefined ? {} : { config: own.config }) });
  }).join('');
}
