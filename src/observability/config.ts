/**
 * The `master.metrics` and `master.tracing` settings blocks. The schemas are the one source of
 * their types; they are meant to join the master's settings schema (the lead wires them in).
 *
 * ```yaml
 * master:
 *   metrics:
 *     enabled: true             # GET /metrics on the control API (default)
 *     node: true                # the master's own process_* and nodejs_* metrics
 *   tracing:
 *     enabled: true
 *     exporter: otlp            # otlp | console | none
 *     endpoint: http://127.0.0.1:4318/v1/traces
 *     sample_ratio: 0.1
 * ```
 */
import * as z from 'zod';
import { durationSchema } from '../config/duration.js';
import { configErrorMap, toConfigIssues } from '../config/issues.js';
import { hsuError } from '../errors.js';

export const metricsSettingsSchema = z.strictObject({
  /** false: no /metrics and no call timing (the call path is then untouched). */
  enabled: z.boolean().default(true),
  /** Also the master's own Node process metrics (CPU, memory, event loop lag, GC) from prom-client. */
  node: z.boolean().default(true),
  /** Distinct actions recorded per worker before further ones count as `_other` (bounds cardinality). */
  max_actions_per_worker: z.number().int().min(1).max(10_000).default(64),
});

export const TRACING_EXPORTERS = ['otlp', 'console', 'none'] as const;

export const tracingSettingsSchema = z
  .strictObject({
    /** false (default): no span is made, the SDK is never loaded and calls are not wrapped. */
    enabled: z.boolean().default(false),
    /** otlp: OTLP over HTTP (JSON) to `endpoint`; console: spans printed to stdout; none: spans made and dropped. */
    exporter: z.enum(TRACING_EXPORTERS).default('otlp'),
    /** The OTLP traces URL; default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else http://localhost:4318/v1/traces. */
    endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://127.0.0.1:4318/v1/traces' }).optional(),
    /** Extra HTTP headers for the OTLP exporter (an API key of a hosted backend). */
    headers: z.record(z.string(), z.string()).default({}),
    /** The fraction of traces kept (parent-based: a call inside a kept trace is kept). */
    sample_ratio: z.number().min(0).max(1).default(1),
    /** `service.name` of the master's spans; default `hsu`. */
    service_name: z.string().min(1).max(256).default('hsu'),
    /** Spans for lifecycle operations (start, stop, restart) and health probes, besides calls. */
    lifecycle: z.boolean().default(true),
    /** How long a batch of spans waits before it is exported. */
    export_delay: durationSchema.default(1000),
  })
  .superRefine((tracing, ctx) => {
    if (tracing.endpoint !== undefined && tracing.exporter !== 'otlp') {
      ctx.addIssue({ code: 'custom', path: ['endpoint'], message: `endpoint is only used with exporter: otlp (exporter is ${tracing.exporter})` });
    }
  });

/** Both blocks, as the master's settings will hold them. */
export const observabilitySettingsSchema = z.strictObject({
  metrics: metricsSettingsSchema.default({ enabled: true, node: true, max_actions_per_worker: 64 }),
  tracing: tracingSettingsSchema.default({ enabled: false, exporter: 'otlp', headers: {}, sample_ratio: 1, service_name: 'hsu', lifecycle: true, export_delay: 1000 }),
});

export type MetricsSettings = z.output<typeof metricsSettingsSchema>;
export type MetricsSettingsInput = z.input<typeof metricsSettingsSchema>;
export type TracingSettings = z.output<typeof tracingSettingsSchema>;
export type TracingSettingsInput = z.input<typeof tracingSettingsSchema>;
export type ObservabilitySettings = z.output<typeof observabilitySettingsSchema>;

/** Settings given in code (not from a file): a bad one is HSU_ERR_CONFIG_INVALID with each issue's key path. */
export function parseSettings<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const result = schema.safeParse(input, { error: configErrorMap });
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues, { schema, data: input }).map((issue) => ({ ...issue, path: issue.path === '' ? where : `${where}.${issue.path}` }));
  throw hsuError('CONFIG_INVALID', `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
}
