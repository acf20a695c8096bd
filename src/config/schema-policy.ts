/**
 * How a worker is kept alive: the restart policy (with backoff and an intensity limit, the
 * Erlang-style "give up after N restarts in a window") and the optional periodic health check.
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { fieldsOf, isRecord } from './describe.js';
import { durationSchema } from './duration.js';

export const RESTART_POLICIES = ['always', 'on-failure', 'never'] as const;
export const HEALTH_CHECK_TYPES = ['runtime', 'http', 'tcp'] as const;

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

const httpUrlSchema = z.string().refine((value) => isHttpUrl(value), {
  error: (issue) => `expected an http:// or https:// URL, got ${JSON.stringify(issue.input)}`,
});

/** Which keys each probe type uses; any other probe key is a mistake worth naming. */
const KEYS_BY_TYPE: Readonly<Record<(typeof HEALTH_CHECK_TYPES)[number], readonly string[]>> = {
  runtime: [],
  http: ['url', 'expect_body'],
  tcp: ['host', 'port'],
};
const REQUIRED_BY_TYPE: Readonly<Record<(typeof HEALTH_CHECK_TYPES)[number], readonly string[]>> = {
  runtime: [],
  http: ['url'],
  tcp: ['port'],
};

/** Input is one flat mapping (type defaults to runtime); output is a union narrowed by `type`. */
export const healthCheckSchema = z
  .strictObject({
    type: z.enum(HEALTH_CHECK_TYPES).default(DEFAULTS.health_check.type),
    url: httpUrlSchema.optional(),
    expect_body: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    interval: durationSchema.prefault(DEFAULTS.health_check.interval).refine((ms) => ms > 0, 'expected a duration greater than 0'),
    timeout: durationSchema.prefault(DEFAULTS.health_check.timeout).refine((ms) => ms > 0, 'expected a duration greater than 0'),
    failure_threshold: z.number().int().min(1).default(DEFAULTS.health_check.failure_threshold),
    success_threshold: z.number().int().min(1).default(DEFAULTS.health_check.success_threshold),
    /** Before the first probe; default: one interval. */
    initial_delay: durationSchema.optional(),
  })
  .superRefine(
    (parsed, ctx) => {
      const check = fieldsOf(parsed);
      const type = HEALTH_CHECK_TYPES.find((t) => t === (check.type ?? DEFAULTS.health_check.type));
      if (type === undefined) return; // the enum already reported the bad type
      for (const key of REQUIRED_BY_TYPE[type]) {
        if (check[key] === undefined) ctx.addIssue({ code: 'custom', path: [key], message: `required when type is ${type}` });
      }
      for (const key of ['url', 'expect_body', 'host', 'port']) {
        if (check[key] !== undefined && !KEYS_BY_TYPE[type].includes(key)) {
          const users = HEALTH_CHECK_TYPES.filter((t) => KEYS_BY_TYPE[t].includes(key)).join(' or ');
          ctx.addIssue({ code: 'custom', path: [key], message: `${key} is only used when type is ${users} (type is ${type})` });
        }
      }
    },
    // Runs even when a sibling field failed, so every problem is reported in one pass.
    { when: (payload) => isRecord(payload.value) },
  )
  .transform((check) => {
    const common = {
      interval: check.interval,
      timeout: check.timeout,
      failure_threshold: check.failure_threshold,
      success_threshold: check.success_threshold,
      initial_delay: check.initial_delay ?? check.interval,
    };
    switch (check.type) {
      case 'http':
        return { type: 'http' as const, url: check.url ?? '', ...(check.expect_body === undefined ? {} : { expect_body: check.expect_body }), ...common };
      case 'tcp':
        return { type: 'tcp' as const, host: check.host ?? DEFAULTS.health_check.host, port: check.port ?? 0, ...common };
      default:
        return { type: 'runtime' as const, ...common };
    }
  });

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
