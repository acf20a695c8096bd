/**
 * The `limits:` block of a process worker:
 *   memory:     { max_rss: 256MB, policy: restart }
 *   cpu:        { max_percent: 90, window: 30s, policy: log }
 *   open_files: { max: 4096, policy: log }
 * The schema is the single source of the types below.
 */
import * as z from 'zod';
import { positiveDurationSchema } from '../config/duration.js';
import { sizeSchema } from './size.js';

export const LIMIT_POLICIES = ['log', 'restart', 'graceful_shutdown', 'immediate_kill'] as const;
export const limitPolicySchema = z.enum(LIMIT_POLICIES);

/** policy: log when omitted (observing never surprises anyone); cpu.window: 30 s. */
export const DEFAULT_POLICY = 'log';
export const DEFAULT_CPU_WINDOW_MS = 30_000;

export const memoryLimitSchema = z.strictObject({
  max_rss: sizeSchema,
  policy: limitPolicySchema.default(DEFAULT_POLICY),
});

export const cpuLimitSchema = z.strictObject({
  /** Percent of one core; above 100 for multi-threaded workers. */
  max_percent: z.number().positive(),
  window: positiveDurationSchema.default(DEFAULT_CPU_WINDOW_MS),
  policy: limitPolicySchema.default(DEFAULT_POLICY),
});

export const openFilesLimitSchema = z.strictObject({
  max: z.int().positive(),
  policy: limitPolicySchema.default(DEFAULT_POLICY),
});

export const limitsSchema = z.strictObject({
  memory: memoryLimitSchema.optional(),
  cpu: cpuLimitSchema.optional(),
  open_files: openFilesLimitSchema.optional(),
});

export type LimitPolicy = z.infer<typeof limitPolicySchema>;
/** Parsed limits: sizes in bytes, window in ms. */
export type Limits = z.output<typeof limitsSchema>;
export type LimitsInput = z.input<typeof limitsSchema>;
export type LimitKind = keyof Limits;
