/**
 * The shapes the control API speaks, as zod schemas: the handlers build their responses to these
 * types and the OpenAPI document is generated from the same schemas, so the document cannot
 * describe something the server does not send (the tests validate real responses against it).
 */
import * as z from 'zod';
import type { SerializedError } from '../errors.js';
import { WORKER_STATES } from '../lifecycle/states.js';
import { MAX_REPLICAS } from '../mesh/autoscaler/schema.js';

const iso = z.string().describe('ISO 8601 time');
const stopCause = z.enum(['requested', 'unhealthy', 'fatal', 'limit']);
const state = z.enum(WORKER_STATES);

export const serializedErrorSchema: z.ZodType<SerializedError> = z
  .strictObject({
    code: z.string(),
    message: z.string(),
    name: z.string().optional(),
    stack: z.string().optional(),
    status: z.number().int().optional(),
    context: z.record(z.string(), z.unknown()).optional(),
    get cause() {
      return serializedErrorSchema.optional();
    },
  });

export const errorBodySchema = z
  .strictObject({
    code: z.string().describe('HSU_ERR_* code from the error catalogue'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).describe('the error context: worker_id, issues with key paths, parse position...'),
  });

export const healthSnapshotSchema = z
  .strictObject({
    status: z.enum(['healthy', 'unhealthy', 'unknown']),
    reason: z.string().optional(),
    checked_at: iso.nullable(),
    latency_ms: z.number().nullable(),
    consecutive_failures: z.number().int(),
    consecutive_successes: z.number().int(),
  });

export const transitionSchema = z
  .strictObject({ from: state, to: state, at: iso, reason: z.string().optional(), cause: stopCause.optional() });

const exitViewSchema = z
  .strictObject({
    requested: z.boolean(),
    exit_code: z.number().int().nullable(),
    signal: z.string().nullable(),
    forced: z.boolean(),
    at: iso,
    error: serializedErrorSchema.nullable(),
  });

const workerShape = {
  id: z.string(),
  type: z.enum(['process', 'module']),
  runtime: z.string().describe('process | inline | thread | host, or a registered kind'),
  state,
  enabled: z.boolean(),
  pid: z.number().int().nullable(),
  started_at: iso.nullable(),
  uptime_ms: z.number().nullable(),
  restart_count: z.number().int(),
  consecutive_restarts: z.number().int(),
  last_error: z.intersection(serializedErrorSchema, z.object({ at: iso })).nullable(),
  last_exit: exitViewSchema.nullable(),
  stop_cause: stopCause.nullable(),
  health: healthSnapshotSchema,
  endpoint: z.strictObject({ type: z.enum(['function', 'ipc', 'url']), address: z.string(), metadata: z.record(z.string(), z.unknown()).optional() }).nullable(),
  details: z.looseObject({ kind: z.string() }).describe("the runtime's facts: executable, module, heap (modules with an isolate of their own), output counts..."),
  watchdogs: z.record(z.string(), z.record(z.string(), z.unknown())),
};

/** One worker in a list: its diagnostics without the transition history. */
export const workerSummarySchema = z.strictObject(workerShape);
/** One worker: diagnostics with the recent transitions. */
export const workerSchema = z.strictObject({ ...workerShape, history: z.array(transitionSchema) });

export const masterInfoSchema = z
  .strictObject({
    name: z.literal('hsu'),
    version: z.string(),
    node: z.string(),
    pid: z.number().int(),
    status: z.enum(['starting', 'running', 'stopping']),
    started_at: iso,
    uptime_ms: z.number(),
    config_file: z.string().nullable(),
    state_dir: z.string().nullable(),
    log_dir: z.string(),
    workers: z.number().int(),
    shutdown_timeout_ms: z.number().nullable(),
  });

export const workerListSchema = z.strictObject({ workers: z.array(workerSummarySchema) });
export const historySchema = z.strictObject({ worker_id: z.string(), history: z.array(transitionSchema) });

/** GET /services: every registered service, its instances and (once called through it) its route: balancer stats, breakers, bulkhead. */
export const servicesSchema = z.strictObject({
  services: z.array(
    z.strictObject({
      service: z.string(),
      instances: z.array(z.record(z.string(), z.unknown())),
      route: z.record(z.string(), z.unknown()).nullable(),
    }),
  ),
});

/** GET /cluster: every live master of the cluster and what each serves (src/cluster/view.ts). */
const clusterInstanceSchema = z.strictObject({
  id: z.string(),
  service: z.string(),
  health: z.string(),
  endpoint_type: z.string(),
  version: z.string(),
  weight: z.number(),
  load: z.record(z.string(), z.unknown()),
});
export const clusterViewSchema = z.strictObject({
  cluster: z.string(),
  node: z.string(),
  connection: z.string(),
  lease: z.string(),
  nodes: z.array(
    z.strictObject({
      node: z.string(),
      self: z.boolean(),
      host: z.string().nullable(),
      pid: z.number().int().nullable(),
      started_at: z.number().nullable(),
      heartbeat_age_ms: z.number().nullable(),
      loop_lag_ms: z.number().nullable(),
      instances: z.array(clusterInstanceSchema),
    }),
  ),
});

const logStreamSchema = z.strictObject({
  file: z.string(),
  exists: z.boolean(),
  size: z.number().int(),
  lines: z.array(z.string()),
  /** The tail began mid-file: older lines exist. */
  truncated: z.boolean(),
});
export const logTailSchema = z.strictObject({ worker_id: z.string(), stdout: logStreamSchema, stderr: logStreamSchema });

export const controlBodySchema = z.strictObject({ force: z.boolean().default(false) });
export const shutdownBodySchema = z.strictObject({ force: z.boolean().default(false) });
export const scaleBodySchema = z.strictObject({ instances: z.number().int().min(1).max(MAX_REPLICAS).describe('the replica count to run') });
export const controlResultSchema = z
  .strictObject({
    changed: z.boolean().describe('false when the worker already was in the requested state'),
    worker: workerSchema.describe('the worker; for a worker with several replicas, its first'),
    replicas: z.array(workerSummarySchema).optional().describe('every replica, when the id names a worker with several'),
  });
export const removedSchema = z.strictObject({ removed: z.string() });
export const shutdownSchema = z.strictObject({
  shutting_down: z.literal(true),
  pid: z.number().int(),
  forced: z.boolean(),
  /** false: a program's own master (serveControlPlane); the process goes on once the master has shut down and its API has closed. */
  process_exits: z.boolean(),
});

const reloadErrorSchema = z.strictObject({ worker_id: z.string().nullable(), step: z.string(), code: z.string(), message: z.string() });
export const reloadReportSchema = z
  .strictObject({
    ok: z.boolean(),
    file: z.string(),
    added: z.array(z.string()),
    removed: z.array(z.string()),
    changed: z.array(z.string()),
    reconfigured: z.array(z.string()),
    unchanged: z.array(z.string()),
    errors: z.array(reloadErrorSchema),
    warnings: z.array(z.string()),
    duration_ms: z.number(),
  });

export type MasterInfo = z.output<typeof masterInfoSchema>;
export type LogTail = z.output<typeof logTailSchema>;
export type ReloadReportBody = z.output<typeof reloadReportSchema>;
export type ErrorBody = z.output<typeof errorBodySchema>;
