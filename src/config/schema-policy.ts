/**
 * How a worker is kept alive: the restart policy (with backoff and an intensity limit, the
 * Erlang-style "give up after N restarts in a window"). Probes live in schema-probe.ts.
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { durationSchema } from './duration.js';

export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;

const { backoff, intensity } = DEFAULTS.restart;

const backoffSchema = z
  .strictObject({
    initial: durationSchema.prefault(backoff.initial),
    max: durationSchema.prefault(backoff.max),
    multiplier: z.number().min(1).default(backoff.multiplier),
    jitter: z.number().min(0).max(1).default(backoff.jitter),
  })
  .superRefine((value, ctx) => {
    if (value.initial > value.max) {
      ctx.addIssue({ code: 'custom', path: ['initial'], message: `initial (${value.initial}ms) must not exceed max (${value.max}ms)` });
    }
  });

const intensitySchema = z.strictObject({
  max_restarts: z.number().int().min(0).default(intensity.max_restarts),
  window: durationSchema.prefault(intensity.window),
});

export const restartSchema = z.strictObject({
  policy: z.enum(RESTART_POLICIES).default(DEFAULTS.restart.policy),
  backoff: backoffSchema.prefault({}),
  intensity: intensitySchema.prefault({}),
  reset_after: durationSchema.prefault(DEFAULTS.restart.reset_after),
});
