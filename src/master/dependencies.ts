/**
 * `depends_on` at run time: a worker starts once the workers it names are up (running, or healthy
 * when asked), dependencies first; a shutdown stops dependents first. A dependency that fails to
 * come up fails its dependents' start with HSU_ERR_DEPENDENCY_FAILED rather than leaving them
 * waiting. (Cycles and unknown names were refused at validation.)
 */
import type { WorkerConfig } from '../config/index.js';
import { startOrder } from '../config/index.js';
import { hsuError } from '../errors.js';
import type { HealthSnapshot } from '../lifecycle/health-watchdog.js';
import type { WorkerState } from '../lifecycle/states.js';
import type { MasterEvents } from './events.js';

/** What the gate needs of the master. */
export interface DependencyHost {
  config(id: string): WorkerConfig | undefined;
  state(id: string): WorkerState;
  health(id: string): HealthSnapshot;
  once<K extends keyof MasterEvents>(name: K, filter: (event: MasterEvents[K]) => boolean, signal: AbortSignal): Promise<MasterEvents[K]>;
}

const UP: readonly WorkerState[] = ['running'];
const DOWN: readonly WorkerState[] = ['failed', 'failed_start', 'stopped', 'idle'];

export function dependencyOrder(configs: readonly WorkerConfig[]): string[] {
  return startOrder(configs);
}

/** Resolves once every dependency of `config` meets its condition; rejects when one cannot, or after `timeoutMs`. */
export async function awaitDependencies(host: DependencyHost, config: WorkerConfig, timeoutMs: number): Promise<void> {
  for (const dep of config.depends_on) {
    await awaitOne(host, config.id, dep.worker, dep.condition, timeoutMs);
  }
}

async function awaitOne(host: DependencyHost, id: string, dep: string, condition: 'running' | 'healthy', timeoutMs: number): Promise<void> {
  const met = (): boolean | 'never' => {
    const state = host.state(dep);
    if (DOWN.includes(state)) return 'never';
    if (!UP.includes(state)) return false;
    return condition === 'running' || host.health(dep).status === 'healthy';
  };
  const fail = (why: string): Error =>
    hsuError('DEPENDENCY_FAILED', `worker '${id}' depends on '${dep}' (${condition}), which ${why}`, { worker_id: id, dependency: dep, condition });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(fail(`was not ${condition} within ${timeoutMs} ms (it is ${host.state(dep)})`)), timeoutMs);
  });
  try {
    for (;;) {
      const now = met();
      if (now === true) return;
      if (now === 'never') throw fail(`is ${host.state(dep)}`);
      // Wait for the next fact about the dependency: a transition or a health change.
      const waiting = new AbortController();
      try {
        const changed = Promise.race([host.once('state', (e) => e.worker_id === dep, waiting.signal), host.once('health', (e) => e.worker_id === dep, waiting.signal)]);
        await Promise.race([changed, deadline]);
      } finally {
        waiting.abort(); // the listener that did not fire goes too
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
