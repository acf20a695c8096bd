/**
 * `depends_on`: start a worker only once the workers it names are running (or healthy), and stop
 * it before them. Names must exist, and the graph must have no cycle: both are found at
 * validation, with the path of the cycle in the message.
 */
import * as z from 'zod';
import { fieldsOf } from './describe.js';
import { yamlString } from './schema-common.js';

export const DEPENDENCY_CONDITIONS = ['running', 'healthy'] as const;

const dependencySchema = z.union([
  yamlString.min(1).transform((worker) => ({ worker, condition: 'running' as const })),
  z.strictObject({ worker: yamlString.min(1), condition: z.enum(DEPENDENCY_CONDITIONS).default('running') }),
]);

/** A list of worker ids, or of `{ worker, condition }`. */
export const dependsOnSchema = z.array(dependencySchema);

/** Unknown names, self-dependencies, `healthy` on a worker without a health check, and cycles. */
export function checkDependencies(workers: readonly unknown[], ctx: z.RefinementCtx): void {
  const byId = new Map<string, Record<string, unknown>>();
  for (const worker of workers) {
    const fields = fieldsOf(worker);
    if (typeof fields.id === 'string') byId.set(fields.id, fields);
  }
  const edges = new Map<string, string[]>();
  workers.forEach((worker, index) => {
    const fields = fieldsOf(worker);
    const id = fields.id;
    const list = fields.depends_on;
    if (typeof id !== 'string' || !Array.isArray(list)) return;
    const targets: string[] = [];
    list.forEach((entry: unknown, position) => {
      const dep = typeof entry === 'string' ? { worker: entry, condition: 'running' } : fieldsOf(entry);
      const name = dep.worker;
      if (typeof name !== 'string') return;
      const path = [index, 'depends_on', position];
      if (name === id) ctx.addIssue({ code: 'custom', path, message: `worker '${id}' cannot depend on itself` });
      else if (!byId.has(name)) ctx.addIssue({ code: 'custom', path, message: `no worker '${name}' (workers: ${[...byId.keys()].join(', ')})` });
      else {
        targets.push(name);
        if (dep.condition === 'healthy' && byId.get(name)?.health_check === undefined) {
          ctx.addIssue({ code: 'custom', path, message: `condition healthy needs a health_check on '${name}'; it has none (use condition: running)` });
        }
      }
    });
    edges.set(id, targets);
  });
  const cycle = findCycle(edges);
  if (cycle !== undefined) {
    const index = workers.findIndex((w) => fieldsOf(w).id === cycle[0]);
    ctx.addIssue({ code: 'custom', path: [index, 'depends_on'], message: `dependency cycle: ${cycle.join(' -> ')}` });
  }
}

/** The first cycle found by depth-first search, as a path that ends where it began. */
export function findCycle(edges: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'visiting') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const found = visit(next);
      if (found !== undefined) return found;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of edges.keys()) {
    const found = visit(node);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Worker ids in an order where every worker comes after the ones it depends on (config order otherwise). */
export function startOrder(workers: readonly { id: string; depends_on: readonly { worker: string }[] }[]): string[] {
  const byId = new Map(workers.map((w) => [w.id, w]));
  const done = new Set<string>();
  const out: string[] = [];
  const place = (id: string): void => {
    if (done.has(id)) return;
    done.add(id);
    for (const dep of byId.get(id)?.depends_on ?? []) if (byId.has(dep.worker)) place(dep.worker);
    out.push(id);
  };
  for (const worker of workers) place(worker.id);
  return out;
}
