/**
 * The YAML `resilience:` block of a service. Every part is optional; without any, calls still get
 * the default retry, which only ever repeats calls that never reached a replica, or idempotent ones.
 * @example
 * resilience:
 *   timeout: 2s                     # per attempt
 *   retry: { max_attempts: 3, backoff: { initial: 20ms, max: 500ms }, jitter: full }
 *   circuit_breaker: { consecutive: 5, half_open_after: 10s }
 *   bulkhead: { max_concurrent: 32, queue: 100 }
 *   idempotent_actions: [get, list]
 */
import * as z from 'zod';
import { durationSchema } from '../../config/duration.js';

const positiveDuration = durationSchema.refine((ms) => ms > 0, 'expected a duration greater than 0');

/** Failures after which an idempotent call may run again elsewhere: the replica may or may not have done the work. */
export const DEFAULT_RETRY_CODES = ['HSU_ERR_CALL_INTERRUPTED', 'HSU_ERR_WORKER_CRASHED', 'HSU_ERR_CALL_TIMEOUT', 'HSU_ERR_MODULE_OUT_OF_MEMORY'] as const;

export const JITTERS = ['none', 'full', 'decorrelated'] as const;

export const retrySchema = z
  .strictObject({
    /** Attempts in all, the first included: 1 turns retrying off. */
    max_attempts: z.number().int().min(1).max(10).default(3),
    backoff: z
      .strictObject({
        initial: durationSchema.default(10),
        max: durationSchema.default(1_000),
      })
      .prefault({})
      .check((ctx) => {
        if (ctx.value.max < ctx.value.initial) {
          ctx.issues.push({ code: 'custom', path: ['max'], input: ctx.value.max, message: `must be >= backoff.initial (${ctx.value.initial} ms), got ${ctx.value.max} ms` });
        }
      }),
    jitter: z.enum(JITTERS).default('full'),
    /** Codes retried for idempotent calls. Calls that never reached a replica are retried whatever this says. */
    on: z
      .array(z.string().regex(/^HSU_ERR_[A-Z0-9_]+$/, 'expected an error code like HSU_ERR_CALL_INTERRUPTED'))
      .default([...DEFAULT_RETRY_CODES]),
  });

export const circuitBreakerSchema = z
  .strictObject({
    /** Opens after this many failures in a row. */
    consecutive: z.number().int().min(1).optional(),
    /** Opens when the failed share of calls in the window passes `threshold`, once there were `min_throughput` calls. */
    sampled: z
      .strictObject({
        threshold: z.number().gt(0).max(1),
        window: positiveDuration,
        min_throughput: z.number().int().min(1).default(10),
      })
      .optional(),
    /** How long an open breaker refuses before one probe call may test the instance again. */
    half_open_after: positiveDuration.default(10_000),
  })
  .check((ctx) => {
    const both = ctx.value.consecutive !== undefined && ctx.value.sampled !== undefined;
    const none = ctx.value.consecutive === undefined && ctx.value.sampled === undefined;
    if (both || none) {
      ctx.issues.push({ code: 'custom', path: [], input: ctx.value, message: `set exactly one of consecutive or sampled${both ? ', not both' : ''}` });
    }
  });

export const bulkheadSchema = z.strictObject({
  /** Calls of this service running at once (retries included: a retry keeps its call's slot). */
  max_concurrent: z.number().int().min(1).max(100_000),
  /** Calls waiting for a slot; beyond it a call fails at once with HSU_ERR_BULKHEAD_FULL. */
  queue: z.number().int().min(0).max(1_000_000).default(0),
});

export const resilienceSchema = z.strictObject({
  /** Per attempt: a replica that does not answer within it fails the attempt with HSU_ERR_CALL_TIMEOUT. */
  timeout: positiveDuration.optional(),
  retry: retrySchema.prefault({}),
  circuit_breaker: circuitBreakerSchema.optional(),
  bulkhead: bulkheadSchema.optional(),
  /** Actions retried after a replica failed mid-call (a call can also say `options.idempotent`). */
  idempotent_actions: z.array(z.string().min(1)).default([]),
});

export type RetryConfig = z.output<typeof retrySchema>;
export type CircuitBreakerConfig = z.output<typeof circuitBreakerSchema>;
export type BulkheadConfig = z.output<typeof bulkheadSchema>;
export type ResilienceConfig = z.output<typeof resilienceSchema>;
export type ResilienceConfigInput = z.input<typeof resilienceSchema>;
