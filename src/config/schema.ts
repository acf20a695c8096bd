/**
 * The hsu configuration schema. These zod schemas are the single source of the config types:
 * `*Input` types are what a user writes, the others are the parsed form (durations in ms,
 * defaults filled in).
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { durationSchema, positiveDurationSchema } from './duration.js';
import { LOG_LEVELS } from './log-levels.js';
import { envNameSchema } from './environments.js';
import { apiSettingsSchema } from '../api/config.js';
import { clusterSchema } from '../cluster/config.js';
import { metricsSettingsSchema, tracingSettingsSchema } from '../observability/config.js';
import { packagesSettingsSchema } from '../packages/config-schema.js';
import type { moduleBlockSchema, hostedModuleSchema, resourceLimitsSchema } from './schema-module.js';
import type { restartSchema } from './schema-policy.js';
import type { healthCheckSchema, readinessSchema } from './schema-probe.js';
import type { integrationSchema } from './schema-worker.js';
import type { rlimitsSchema, unmanagedSchema } from './schema-process.js';
import type { executionSchema, moduleWorkerSchema, processWorkerSchema, workerConfigSchema } from './schema-worker.js';
import { workersSchema } from './schema-worker.js';

export { DEFAULTS } from './defaults.js';
export { ISOLATIONS, MODULE_TYPES, hostedModuleSchema, moduleBlockSchema, resourceLimitsSchema } from './schema-module.js';
export { RESTART_POLICIES, restartSchema } from './schema-policy.js';
export { HEALTH_CHECK_TYPES, PORT_PROBES, healthCheckSchema, readinessSchema } from './schema-probe.js';
export { DEPENDENCY_CONDITIONS, findCycle, startOrder } from './schema-dependencies.js';
export { ON_MASTER_RESTART, rlimitsSchema, unmanagedSchema } from './schema-process.js';
export {
  MANAGEMENT_MODES,
  STOP_SIGNALS,
  WORKER_ID_PATTERN,
  WORKER_TYPES,
  commonWorkerFieldsSchema,
  executionSchema,
  integrationSchema,
  moduleWorkerSchema,
  processWorkerSchema,
  workerConfigSchema,
} from './schema-worker.js';

export { LOG_LEVELS } from './log-levels.js';

export const CGROUP_MODES = ['auto', 'v2', 'v1', 'off'] as const;

export const masterSettingsSchema = z.strictObject({
  log_dir: z.string().min(1).default(DEFAULTS.master.log_dir),
  state_dir: z.string().min(1).default(DEFAULTS.master.state_dir),
  log_level: z.enum(LOG_LEVELS).default(DEFAULTS.master.log_level),
  shutdown_timeout: durationSchema.prefault(DEFAULTS.master.shutdown_timeout),
  inline_error_attribution: z.boolean().default(DEFAULTS.master.inline_error_attribution),
  /** A cgroup per process worker: auto (v2, else v1, else none), a given version, or off (process groups and polling). */
  cgroups: z.enum(CGROUP_MODES).default(DEFAULTS.master.cgroups),
  /** How often process workers' resources are sampled (one pass over /proc for all); limits act within two. */
  sample_interval: positiveDurationSchema.prefault(DEFAULTS.master.sample_interval),
  /** Where workers' `package:` names are installed from, and which signing keys are trusted. */
  packages: packagesSettingsSchema.prefault({}),
  /** The control API: unix socket, optional TCP/TLS listener, token (see docs/control-plane.md). */
  api: apiSettingsSchema.prefault({}),
  /** Join other masters through NATS JetStream (see docs/cluster.md); absent: this master is alone. */
  cluster: clusterSchema.optional(),
  /** Prometheus `/metrics` on the control API (see docs/observability.md); on by default. */
  metrics: metricsSettingsSchema.prefault({}),
  /** OpenTelemetry spans for calls and the lifecycle; off by default (the SDK is then never loaded). */
  tracing: tracingSettingsSchema.prefault({}),
  /** The environment overlay selected when HSU_ENV (`hsu run --env`) does not name one. */
  env: envNameSchema.optional(),
});

export const hsuConfigSchema = z.strictObject(
  {
    master: masterSettingsSchema.prefault({}),
    workers: workersSchema,
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type' && (issue.input === null || issue.input === undefined)
        ? 'the configuration is empty; expected a mapping with a `workers` list'
        : undefined,
  },
);

export type HsuConfig = z.output<typeof hsuConfigSchema>;
export type HsuConfigInput = z.input<typeof hsuConfigSchema>;
export type MasterSettings = z.output<typeof masterSettingsSchema>;
export type WorkerConfig = z.output<typeof workerConfigSchema>;
export type WorkerConfigInput = z.input<typeof workerConfigSchema>;
export type ProcessWorkerConfig = z.output<typeof processWorkerSchema>;
export type ModuleWorkerConfig = z.output<typeof moduleWorkerSchema>;
export type WorkerType = WorkerConfig['type'];
/** The `module` block of a `type: module` worker (native or plugin). */
export type ModuleBlock = z.output<typeof moduleBlockSchema>;
export type NativeModuleBlock = Extract<ModuleBlock, { module_type: 'native' }>;
export type PluginModuleBlock = Extract<ModuleBlock, { module_type: 'plugin' }>;
/** The `module` block of a `type: process` worker: always a plugin, never with `isolation`. */
export type HostedModuleBlock = z.output<typeof hostedModuleSchema>;
export type ExecutionBlock = z.output<typeof executionSchema>;
export type RestartConfig = z.output<typeof restartSchema>;
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;
export type ReadinessConfig = z.output<typeof readinessSchema>;
export type IntegrationConfig = z.output<typeof integrationSchema>;
export type UnmanagedConfig = z.output<typeof unmanagedSchema>;
export type RlimitsConfig = z.output<typeof rlimitsSchema>;
export type ResourceLimits = z.output<typeof resourceLimitsSchema>;
