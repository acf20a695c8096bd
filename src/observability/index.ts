// Public face of observability: the master's log, metrics (Prometheus, through prom-client),
// tracing (OpenTelemetry; the SDK is loaded only when enabled) and the settings blocks.
export { createLogger } from './logger.js';
export type { LoggerOptions, MasterLog } from './logger.js';
export { instrumentMaster, instrumentationOf } from './instrument.js';
export type { InstrumentOptions, Instrumentation } from './instrument.js';
export { MasterMetrics } from './metrics/master-metrics.js';
export { PROMETHEUS_CONTENT_TYPE } from './metrics/exposition.js';
// The lazy forms: the package root must not load @opentelemetry/api for a master that does not trace.
export { lazyTraceLogMixin as traceLogMixin, lazyTraceFields as traceFields } from './trace-log-fields.js';
export type { MasterTracing, TracingOverrides } from './tracing/master-tracing.js';
export { metricsSettingsSchema, observabilitySettingsSchema, tracingSettingsSchema, TRACING_EXPORTERS } from './config.js';
export type { MetricsSettings, MetricsSettingsInput, ObservabilitySettings, TracingSettings, TracingSettingsInput } from './config.js';
export { usageHubOf } from './http/usage-hub.js';
export type { UsageFrame, WorkerUsage } from './http/usage-hub.js';
export { OBSERVABILITY_ERROR_CODES } from './error-codes.js';
