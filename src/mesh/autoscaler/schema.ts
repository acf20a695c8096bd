/**
 * The YAML `autoscale:` block of a replicated worker.
 * @example
 * autoscale: { min: 2, max: 8, metric: inflight_per_replica, scale_up_at: 8, scale_down_at: 2, window: 10s, cooldown: 30s, step: 1 }
 */
import * as z from 'zod';
import { durationSchema } from '../../config/duration.js';

export const AUTOSCALE_METRICS = ['inflight_per_replica', 'queue_depth', 'cpu_percent'] as const;
/** More replicas than this under one id is a typo, not a plan. */
export const MAX_REPLICAS = 1_024;

export const autoscaleSchema = z
  .strictObject({
    min: z.number().int().min(1).max(MAX_REPLICAS),
    max: z.number().int().min(1).max(MAX_REPLICAS),
    /** inflight_per_replica: calls in flight / replicas; queue_depth: backlog (a command worker's lag); cpu_percent: mean over replicas. */
    metric: z.enum(AUTOSCALE_METRICS),
    /** Scale up when the metric's mean over `window` is above this. */
    scale_up_at: z.number().gt(0),
    /** Scale down when the mean over a full `window` is below this; the gap to scale_up_at is the hysteresis. */
    scale_down_at: z.number().min(0),
    window: durationSchema.default(10_000),
    /** Time after a scaling action before the next one. */
    cooldown: durationSchema.default(30_000),
    /** Replicas added or removed per action. */
    step: z.number().int().min(1).max(MAX_REPLICAS).default(1),
    /** Replace a replica that is reported unhealthy. */
    replace_unhealthy: z.boolean().default(true),
  })
  .check((ctx) => {
    const { min, max, scale_up_at: up, scale_down_at: down } = ctx.value;
    if (max < min) ctx.issues.push({ code: 'custom', path: ['max'], input: max, message: `must be >= min (${min}), got ${max}` });
    if (down >= up) {
      ctx.issues.push({ code: 'custom', path: ['scale_down_at'], input: down, message: `must be below scale_up_at (${up}) so that scaling has hysteresis, got ${down}` });
    }
  });

export type AutoscaleMetric = (typeof AUTOSCALE_METRICS)[number];
export type AutoscaleConfig = z.output<typeof autoscaleSchema>;
export type AutoscaleConfigInput = z.input<typeof autoscaleSchema>;
