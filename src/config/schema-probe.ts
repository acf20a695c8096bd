/**
 * Probe blocks: `health_check` (a periodic liveness probe that restarts by policy) and `readiness`
 * (polled during the start; the worker is `running` only once it passes). Input is one flat
 * mapping whose `type` picks the keys that apply; output is a union narrowed by `type`.
 * `{port}` and `{host}` in a URL or command are the ones an integrated worker was given.
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { fieldsOf, isRecord } from './describe.js';
import { durationSchema } from './duration.js';

export const HEALTH_CHECK_TYPES = ['runtime', 'http', 'tcp', 'grpc', 'exec'] as const;
export type ProbeType = (typeof HEALTH_CHECK_TYPES)[number];

/** Which keys each probe type uses; any other probe key is a mistake worth naming. */
const KEYS_BY_TYPE: Readonly<Record<ProbeType, readonly string[]>> = {
  runtime: [],
  http: ['url', 'expect_body'],
  tcp: ['host', 'port'],
  grpc: ['host', 'port', 'service'],
  exec: ['command'],
};
/** `port` may be left out for an integrated worker: the assigned port is used (checked by the worker schema). */
const REQUIRED_BY_TYPE: Readonly<Record<ProbeType, readonly string[]>> = {
  runtime: [],
  http: ['url'],
  tcp: [],
  grpc: [],
  exec: ['command'],
};
const PROBE_KEYS = ['url', 'expect_body', 'host', 'port', 'service', 'command'] as const;

const httpUrlSchema = z.string().refine((value) => isHttpUrl(value.replaceAll('{port}', '1').replaceAll('{host}', 'localhost')), {
  error: (issue) => `expected an http:// or https:// URL, got ${JSON.stringify(issue.input)}`,
});


interface ProbeDefaults {
  readonly interval: string;
  readonly timeout: string;
  readonly success_threshold: number;
}

/**
 * One probe block. `failureThreshold` is its own schema because the two blocks differ: a health
 * check defaults to a count, readiness leaves it unset (retry until the start timeout).
 * `initialDelay`: before the first probe, when not given (one interval, or none).
 */
function probeSchema<F extends z.ZodType<number | undefined>>(defaults: ProbeDefaults, failureThreshold: F, initialDelay: 'interval' | 'none') {
  return z
    .strictObject({
      type: z.enum(HEALTH_CHECK_TYPES).default(DEFAULTS.health_check.type),
      url: httpUrlSchema.optional(),
      expect_body: z.string().min(1).optional(),
      host: z.string().min(1).optional(),
      port: z.number().int().min(1).max(65535).optional(),
      service: z.string().optional(),
      command: z.union([z.string().min(1), z.array(z.string()).min(1)]).optional(),
      interval: durationSchema.prefault(defaults.interval).refine((ms) => ms > 0, 'expected a duration greater than 0'),
      timeout: durationSchema.prefault(defaults.timeout).refine((ms) => ms > 0, 'expected a duration greater than 0'),
      failure_threshold: failureThreshold,
      success_threshold: z.number().int().min(1).default(defaults.success_threshold),
      /** Before the first probe; default: one interval (health_check), none (readiness). */
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
        for (const key of PROBE_KEYS) {
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
        // A generic key zod's mapped type cannot index: read it plainly, typed by the schema given.
        failure_threshold: (check as { failure_threshold?: number }).failure_threshold as z.output<F>,
        success_threshold: check.success_threshold,
        initial_delay: check.initial_delay ?? (initialDelay === 'interval' ? check.interval : 0),
      };
      const host = check.host ?? DEFAULTS.health_check.host;
      switch (check.type) {
        case 'http':
          return { type: 'http' as const, url: check.url ?? '', ...(check.expect_body === undefined ? {} : { expect_body: check.expect_body }), ...common };
        case 'tcp':
          return { type: 'tcp' as const, host, ...(check.port === undefined ? {} : { port: check.port }), ...common };
        case 'grpc':
          return { type: 'grpc' as const, host, service: check.service ?? '', ...(check.port === undefined ? {} : { port: check.port }), ...common };
        case 'exec':
          return { type: 'exec' as const, command: check.command ?? [], ...common };
        default:
          return { type: 'runtime' as const, ...common };
      }
    });
}

const thresholdSchema = z.number().int().min(1);
export const healthCheckSchema = probeSchema(DEFAULTS.health_check, thresholdSchema.default(DEFAULTS.health_check.failure_threshold), 'interval');
/** Unset `failure_threshold`: failed attempts are retried until the start timeout. */
export const readinessSchema = probeSchema(DEFAULTS.readiness, thresholdSchema.optional(), 'none');

/** The probe types that reach a port, and so may take an integrated worker's assigned port. */
export const PORT_PROBES: readonly ProbeType[] = ['tcp', 'grpc'];

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
