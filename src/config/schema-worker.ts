/**
 * One worker entry. `type` picks the shape: a `process` worker runs an executable (or hosts a
 * plugin module in a child process); a `module` worker runs module code inside the master.
 */
import * as z from 'zod';
import { cronLib } from '../lazy-libs.js';
import { DEFAULTS } from './defaults.js';
import { describeValue, fieldsOf, isRecord } from './describe.js';
import { durationSchema, positiveDurationSchema } from './duration.js';
import { withKeyHints } from './key-hints.js';
import { yamlString } from './schema-common.js';
import { checkEnvOverlays, envOverlaysSchema } from './environments.js';
import { watchSchema } from '../watch/schema.js';
import { checkDependencies, dependsOnSchema } from './schema-dependencies.js';
import { hostedModuleSchema, moduleBlockSchema } from './schema-module.js';
import { processExtrasShape } from './schema-process.js';
import { MAX_REPLICAS, autoscaleSchema } from '../mesh/autoscaler/schema.js';
import { workerPackageShape } from '../packages/config-schema.js';
import { logsSchema } from '../runtimes/output/logs-config.js';
import { balancerSchema } from '../mesh/balancers/schema.js';
import { serviceBlockSchema } from '../mesh/registry/schema.js';
import { resilienceSchema } from '../mesh/resilience/schema.js';
import { restartSchema } from './schema-policy.js';
import { PORT_PROBES, healthCheckSchema, readinessSchema } from './schema-probe.js';

export const WORKER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const WORKER_TYPES = ['process', 'module'] as const;
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'] as const;
export const MANAGEMENT_MODES = ['managed', 'integrated', 'unmanaged'] as const;

export const workerIdSchema = yamlString.regex(WORKER_ID_PATTERN, {
  error: (issue) => `expected 1-64 characters of A-Z, a-z, 0-9, "_" or "-", got ${describeValue(issue.input)}`,
});

export const executionSchema = z.strictObject({
  executable_path: yamlString.min(1),
  args: z.array(yamlString).prefault([]),
  environment: z.record(z.string(), yamlString).prefault({}),
  working_directory: yamlString.min(1).optional(),
  inherit_environment: z.boolean().default(DEFAULTS.execution.inherit_environment),
});

/** A cron expression (5 fields, or 6 with seconds), checked by the parser that will run it. */
const cronSchema = yamlString.superRefine((value, ctx) => {
  try {
    new (cronLib().Cron)(value, { paused: true }).stop();
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a cron expression: ${(error as Error).message}` });
  }
});

/** Fields every worker type has besides id and type, in the order they are listed to users. */
const commonShape = {
  enabled: z.boolean().default(DEFAULTS.worker.enabled),
  start_timeout: positiveDurationSchema.prefault(DEFAULTS.worker.start_timeout),
  stop_timeout: durationSchema.prefault(DEFAULTS.worker.stop_timeout),
  stop_signal: z.enum(STOP_SIGNALS).default(DEFAULTS.worker.stop_signal),
  restart: restartSchema.prefault({}),
  health_check: healthCheckSchema.optional(),
  /** Polled during the start: the worker is running only once it passes (the start timeout covers it). */
  readiness: readinessSchema.optional(),
  depends_on: dependsOnSchema.prefault([]),
  /** Restart on a schedule (cron), like PM2's cron_restart; only a running worker is restarted. */
  restart_schedule: cronSchema.optional(),
  /** Copies under one id (`api#0`, `api#1`, ...), each supervised by the same lifecycle; the start count with `autoscale`. Filled by {@link withInstances}. */
  instances: z.number().int().min(1).max(MAX_REPLICAS).optional(),
  /** How each replica is registered as a service (default: under the worker id, when it serves). */
  service: serviceBlockSchema.optional(),
  balancer: balancerSchema.optional(),
  resilience: resilienceSchema.optional(),
  autoscale: autoscaleSchema.optional(),
  /** `name:version` or `name:range` of an installed package: it supplies the code; expanded when the config file is loaded. */
  ...workerPackageShape,
  /** The worker's log files: rotation by size, segments kept, gzip, a timestamp per line. */
  logs: logsSchema.optional(),
  /** What `hsu run --watch` watches for this worker (default: its code), or false to leave it alone. */
  watch: watchSchema.optional(),
};

/** An explicit `instances` within the autoscaler's bounds; checked where both are seen. */
function checkInstances(worker: Record<string, unknown>, ctx: z.RefinementCtx): void {
  const scale = fieldsOf(worker.autoscale);
  const instances = worker.instances;
  if (typeof instances !== 'number') return; // unset: autoscale.min, within the bounds by definition
  if (typeof scale.min === 'number' && typeof scale.max === 'number' && (instances < scale.min || instances > scale.max)) {
    ctx.addIssue({ code: 'custom', path: ['instances'], message: `must be within autoscale min..max (${scale.min}..${scale.max}), got ${instances}` });
  }
}

/** The replica count when `instances` is not given: `autoscale.min` with autoscale, else 1. */
function withInstances<W extends { instances?: number | undefined; autoscale?: { min: number } | undefined }>(worker: W): W & { instances: number } {
  return { ...worker, instances: worker.instances ?? worker.autoscale?.min ?? 1 };
}

const managementSchema = z.enum(MANAGEMENT_MODES);

/** `management: integrated`: the master gives the worker a loopback port. */
export const integrationSchema = z.strictObject({
  /** 0: a free port picked at each start; otherwise this port. */
  port: z.number().int().min(0).max(65535).default(DEFAULTS.integration.port),
  host: yamlString.min(1).default(DEFAULTS.integration.host),
  /** The environment variable that carries the port (`{port}` in args works too). */
  port_env: yamlString.regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default(DEFAULTS.integration.port_env),
});

/** Keys of other supervisors' configs (PM2, compose, systemd), answered with where hsu has them. */
const PROCESS_KEY_HINTS: Readonly<Record<string, string>> = {
  command: 'the program goes in `execution: { executable_path: ..., args: [...] }`',
  args: 'arguments go in `execution.args`',
  script: 'the program goes in `execution.executable_path` (a plugin module in `module:`); `hsu import pm2` converts an ecosystem file',
  cwd: 'the working directory is `execution.working_directory`',
  environment: 'environment variables go in `execution.environment`',
  exec: 'the program goes in `execution.executable_path`',
};

export const processWorkerSchema = withKeyHints(
  z
    .strictObject({
      id: workerIdSchema,
      type: z.literal('process'),
      ...commonShape,
      management: managementSchema.default(DEFAULTS.worker.management),
      integration: integrationSchema.optional(),
      /** A Node child announces readiness with process.send('ready') (PM2's wait_ready); it gets an IPC channel. */
      wait_ready: z.boolean().default(false),
      execution: executionSchema.optional(),
      /** Environment overlays by name (PM2's env_<name>), merged over execution.environment for the selected one. */
      env: envOverlaysSchema.optional(),
      module: hostedModuleSchema.optional(),
      ...processExtrasShape,
    })
    .superRefine(
      (parsed, ctx) => {
        const worker = fieldsOf(parsed);
        const hasExecution = worker.execution !== undefined;
        const hasModule = worker.module !== undefined;
        if (worker.management === 'unmanaged') {
          checkUnmanaged(worker, ctx);
          return;
        }
        if (worker.unmanaged !== undefined) ctx.addIssue({ code: 'custom', path: ['unmanaged'], message: 'unmanaged is only for management: unmanaged' });
        if (!hasExecution && !hasModule && worker.package !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['package'], message: 'a packaged worker is expanded from the package store when its config file is loaded (hsu run, Master.fromConfigFile); this config was not' });
        } else if (!hasExecution && !hasModule) {
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: 'a process worker needs exactly one of `execution` (run an executable) or `module` (host a plugin module in a child process)',
          });
        } else if (hasExecution && hasModule) {
          ctx.addIssue({ code: 'custom', path: ['module'], message: 'a process worker takes exactly one of `execution` or `module`, not both' });
        }
        const integrated = worker.management === 'integrated';
        if (worker.integration !== undefined && !integrated) {
          ctx.addIssue({ code: 'custom', path: ['integration'], message: 'integration is only for management: integrated' });
        }
        if (integrated && !hasExecution && hasModule) {
          ctx.addIssue({ code: 'custom', path: ['management'], message: 'a hosted module is reached through the master (its actions); integrated is for an executable that serves a port' });
        }
        if (worker.wait_ready === true && !hasExecution) {
          ctx.addIssue({ code: 'custom', path: ['wait_ready'], message: 'wait_ready is for an executable (a hosted module always reports when it has started)' });
        }
        checkProbePorts(worker, integrated, ctx);
        checkInstances(worker, ctx);
        checkEnvOverlays(worker, ctx);
      },
      // Runs even when a sibling field failed, so every problem is reported in one pass.
      { when: (payload) => isRecord(payload.value) },
    ),
  PROCESS_KEY_HINTS,
).transform(withInstances);

export const moduleWorkerSchema = withKeyHints(
  z
    .strictObject({
      id: workerIdSchema,
      type: z.literal('module'),
      ...commonShape,
      module: moduleBlockSchema,
    })
    .superRefine(
      (parsed, ctx) => {
        checkProbePorts(fieldsOf(parsed), false, ctx);
        checkInstances(fieldsOf(parsed), ctx);
      },
      { when: (payload) => isRecord(payload.value) },
    ),
  {
    execution: 'execution is only for type: process; a module worker runs the code named by its `module` block',
    management: 'management is only for type: process',
    integration: 'integration is only for type: process with management: integrated',
    wait_ready: 'wait_ready is only for type: process',
    limits:
      "limits are enforced on a process; a module in the master shares the master's process (use isolation: thread with resource_limits, or type: process for limits)",
    user: 'user is only for type: process',
    group: 'group is only for type: process',
    umask: 'umask is only for type: process',
    rlimits: 'rlimits are only for type: process',
    on_master_restart: 'on_master_restart is only for type: process (a module is always started afresh with the master)',
    unmanaged: 'unmanaged is only for type: process with management: unmanaged',
    env: "env overlays set a process's environment variables; a module in the master has none of its own (use module.config)",
    command: 'a module worker runs the code its `module:` block names; a program is `type: process` with `execution:`',
    script: 'a module worker runs the code its `module:` block names (`module_path`); a program is `type: process` with `execution:`',
  },
).transform(withInstances);

/** An unmanaged worker is found, not started: no execution, no module, nothing that shapes a start. */
function checkUnmanaged(worker: Record<string, unknown>, ctx: z.RefinementCtx): void {
  if (worker.unmanaged === undefined) ctx.addIssue({ code: 'custom', path: ['unmanaged'], message: 'required for management: unmanaged: how to find the process (pid_file, process_name, command_pattern or port)' });
  if (typeof worker.instances === 'number' && worker.instances > 1) ctx.addIssue({ code: 'custom', path: ['instances'], message: 'an unmanaged worker is one process someone else runs: instances must be 1' });
  for (const key of ['execution', 'module', 'integration', 'user', 'group', 'umask', 'rlimits', 'restart_schedule', 'autoscale'] as const) {
    if (worker[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `${key} does not apply to an unmanaged worker: the master does not start it` });
  }
  if (worker.wait_ready === true) ctx.addIssue({ code: 'custom', path: ['wait_ready'], message: 'wait_ready does not apply to an unmanaged worker' });
  const allowStop = fieldsOf(worker.unmanaged).allow_stop === true;
  const limits = fieldsOf(worker.limits);
  for (const kind of ['memory', 'cpu', 'open_files'] as const) {
    const policy = fieldsOf(limits[kind]).policy;
    if (!allowStop && policy !== undefined && policy !== 'log') {
      ctx.addIssue({ code: 'custom', path: ['limits', kind, 'policy'], message: `policy ${String(policy)} would stop a process the master may not stop (set unmanaged.allow_stop: true, or policy: log)` });
    }
  }
}

/** A tcp or grpc probe needs a port, unless the worker is integrated (then it is the assigned one); so does `{port}`. */
function checkProbePorts(worker: Record<string, unknown>, integrated: boolean, ctx: z.RefinementCtx): void {
  for (const key of ['health_check', 'readiness'] as const) {
    const probe = fieldsOf(worker[key]);
    const type = probe.type as string | undefined;
    if (type !== undefined && PORT_PROBES.includes(type as never) && probe.port === undefined && !integrated) {
      ctx.addIssue({ code: 'custom', path: [key, 'port'], message: `required when type is ${type} (only an integrated worker may leave it out: then its assigned port is probed)` });
    }
    const text = [probe.url, ...(Array.isArray(probe.command) ? probe.command : [probe.command])].filter((v): v is string => typeof v === 'string').join(' ');
    if (!integrated && /\{(port|host)\}/.test(text)) {
      ctx.addIssue({ code: 'custom', path: [key], message: '{port} and {host} stand for an integrated worker\'s assigned port; this worker is not integrated' });
    }
  }
}

export const workerConfigSchema = z.discriminatedUnion('type', [processWorkerSchema, moduleWorkerSchema]);

/**
 * The fields every worker has, whatever its type. When `type` itself is wrong the union cannot
 * pick a branch; this schema still checks the rest of the entry, so one mistake does not hide others.
 */
export const commonWorkerFieldsSchema = z.looseObject({ id: workerIdSchema, ...commonShape });

/** The worker list; ids must be unique because every API call addresses a worker by id. */
export const workersSchema = z.array(workerConfigSchema).superRefine(
  (workers, ctx) => {
    checkDependencies(workers, ctx);
    const firstIndex = new Map<string, number>();
    workers.forEach((worker, index) => {
      const id = fieldsOf(worker).id;
      if (typeof id !== 'string') return;
      const first = firstIndex.get(id);
      if (first === undefined) {
        firstIndex.set(id, index);
      } else {
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate worker id ${JSON.stringify(id)} (already used by workers[${first}])` });
      }
    });
  },
  // Runs even when some entries are invalid, so duplicates show up with the other problems.
  { when: (payload) => Array.isArray(payload.value) },
);
