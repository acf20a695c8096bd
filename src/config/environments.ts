/**
 * Environment overlays, after PM2's `env_<name>` blocks: a process worker lists named sets of
 * variables under `env`, and one name is selected for the whole file (`hsu run --env <name>`, the
 * `HSU_ENV` variable, else `master.env`). The selected set is merged over
 * `execution.environment` when the file is loaded, so `hsu validate`, `hsu run` and a reload see
 * the same result; the overlays themselves do not reach the master.
 */
import * as z from 'zod';
import { fieldsOf, isRecord } from './describe.js';
import { yamlString } from './schema-common.js';
import type { ConfigIssue } from './issues.js';
import type { HsuConfig, WorkerConfig } from './schema.js';

/** The variable that selects an environment; `hsu run --env <name>` sets it for the master and its workers. */
export const ENV_SELECTOR = 'HSU_ENV';

const ENV_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const envNameSchema = yamlString.regex(ENV_NAME, { error: () => 'an environment name is 1-64 of A-Z, a-z, 0-9, "_" or "-"' });

/** `env: { production: { NODE_ENV: production }, staging: {...} }` on a process worker. */
export const envOverlaysSchema = z.record(envNameSchema, z.record(z.string(), yamlString));

export type EnvOverlays = z.output<typeof envOverlaysSchema>;

/** `env` needs an `execution` block: it is merged into `execution.environment`. */
export function checkEnvOverlays(worker: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (worker.env === undefined || worker.execution !== undefined || worker.management === 'unmanaged') return;
  ctx.addIssue({
    code: 'custom',
    path: ['env'],
    message: 'env overlays are merged into execution.environment; a worker without `execution` (a hosted module) has none: use module.config',
  });
}

/** The selected environment: the selector variable wins over the file's `master.env`. */
export function selectedEnvironment(variables: NodeJS.ProcessEnv, fromFile: string | undefined): string | undefined {
  const chosen = variables[ENV_SELECTOR];
  return chosen !== undefined && chosen !== '' ? chosen : fromFile;
}

/**
 * Merges the selected overlay of every worker and drops the overlays. A name that no worker
 * defines, in a file that defines overlays, is an issue (a typo would otherwise run the base set).
 */
export function applyEnvironment(config: HsuConfig, selected: string | undefined, fromVariable: boolean): { config: HsuConfig; issues: Omit<ConfigIssue, 'file'>[] } {
  const defined = new Set(config.workers.flatMap((worker) => Object.keys(overlaysOf(worker))));
  const issues: Omit<ConfigIssue, 'file'>[] = [];
  if (selected !== undefined && defined.size > 0 && !defined.has(selected)) {
    const where = fromVariable ? `${ENV_SELECTOR} (or --env)` : 'master.env';
    issues.push({ path: fromVariable ? '' : 'master.env', message: `environment ${JSON.stringify(selected)} selected by ${where} is not defined by any worker's env (defined: ${[...defined].sort().join(', ')})`, choices: [...defined].sort() });
  }
  const workers = config.workers.map((worker) => applyToWorker(worker, selected));
  return { config: { ...config, master: { ...config.master, ...(selected === undefined ? {} : { env: selected }) }, workers }, issues };
}

/** One worker entry (as `master.addWorker` gets it): the overlay named by `selected`, merged. */
export function applyToWorker(worker: WorkerConfig, selected: string | undefined): WorkerConfig {
  if (worker.type !== 'process' || worker.env === undefined) return worker;
  const { env, ...rest } = worker;
  const overlay = selected === undefined ? undefined : env[selected];
  if (overlay === undefined || rest.execution === undefined) return rest;
  return { ...rest, execution: { ...rest.execution, environment: { ...rest.execution.environment, ...overlay } } };
}

function overlaysOf(worker: unknown): Record<string, unknown> {
  const env = fieldsOf(worker).env;
  return isRecord(env) ? env : {};
}
