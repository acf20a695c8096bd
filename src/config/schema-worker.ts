/**
 * One worker entry. `type` picks the shape: a `process` worker runs an executable (or hosts a
 * plugin module in a child process); a `module` worker runs module code inside the master.
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { describeValue, fieldsOf, isRecord } from './describe.js';
import { durationSchema, positiveDurationSchema } from './duration.js';
import { withKeyHints } from './key-hints.js';
import { yamlString } from './schema-common.js';
import { hostedModuleSchema, moduleBlockSchema } from './schema-module.js';
import { healthCheckSchema, restartSchema } from './schema-policy.js';

export const WORKER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const WORKER_TYPES = ['process', 'module'] as const;
export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGKILL'] as const;
export const MANAGEMENT_MODES = ['managed'] as const;

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

/** Fields every worker type has besides id and type, in the order they are listed to users. */
const commonShape = {
  enabled: z.boolean().default(DEFAULTS.worker.enabled),
  start_timeout: positiveDurationSchema.prefault(DEFAULTS.worker.start_timeout),
  stop_timeout: durationSchema.prefault(DEFAULTS.worker.stop_timeout),
  stop_signal: z.enum(STOP_SIGNALS).default(DEFAULTS.worker.stop_signal),
  restart: restartSchema.prefault({}),
  health_check: healthCheckSchema.optional(),
};

const managementSchema = z.enum(MANAGEMENT_MODES, {
  error: (issue) =>
    issue.code === 'invalid_value'
      ? `expected one of ${MANAGEMENT_MODES.join(', ')}, got ${describeValue(issue.input)} (integrated and unmanaged workers are not supported yet)`
      : undefined,
});

export const processWorkerSchema = z
  .strictObject({
    id: workerIdSchema,
    type: z.literal('process'),
    ...commonShape,
    management: managementSchema.default(DEFAULTS.worker.management),
    execution: executionSchema.optional(),
    module: hostedModuleSchema.optional(),
  })
  .superRefine(
    (parsed, ctx) => {
      const worker = fieldsOf(parsed);
      const hasExecution = worker.execution !== undefined;
      const hasModule = worker.module !== undefined;
      if (!hasExecution && !hasModule) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: 'a process worker needs exactly one of `execution` (run an executable) or `module` (host a plugin module in a child process)',
        });
      } else if (hasExecution && hasModule) {
        ctx.addIssue({ code: 'custom', path: ['module'], message: 'a process worker takes exactly one of `execution` or `module`, not both' });
      }
    },
    // Runs even when a sibling field failed, so every problem is reported in one pass.
    { when: (payload) => isRecord(payload.value) },
  );

export const moduleWorkerSchema = withKeyHints(
  z.strictObject({
    id: workerIdSchema,
    type: z.literal('module'),
    ...commonShape,
    module: moduleBlockSchema,
  }),
  {
    execution: 'execution is only for type: process; a module worker runs the code named by its `module` block',
    management: 'management is only for type: process',
  },
);

export const workerConfigSchema = z.discriminatedUnion('type', [processWorkerSchema, moduleWorkerSchema]);

/**
 * The fields every worker has, whatever its type. When `type` itself is wrong the union cannot
 * pick a branch; this schema still checks the rest of the entry, so one mistake does not hide others.
 */
export const commonWorkerFieldsSchema = z.looseObject({ id: workerIdSchema, ...commonShape });

/** The worker list; ids must be unique because every API call addresses a worker by id. */
export const workersSchema = z.array(workerConfigSchema).superRefine(
  (workers, ctx) => {
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
