/**
 * Observability of one master in one call: metrics (on by default) and tracing (off by default),
 * wired through the seams the master has: its event bus and one call middleware. The middleware
 * cannot be taken out of the master again, so after close() it passes calls straight through.
 * @example
 * const observed = await instrumentMaster(master, { tracing: { enabled: true, exporter: 'otlp' } });
 * // GET /metrics on the control API now answers; master.call() makes spans.
 * await observed.close();
 */
import type { Master } from '../master/master.js';
import type { CallNext, CallRequest } from '../master/middleware.js';
import type { MetricsSettingsInput, TracingSettingsInput } from './config.js';
import { MasterMetrics } from './metrics/master-metrics.js';
import type { MasterTracing, TracingOverrides } from './tracing/master-tracing.js';

export interface InstrumentOptions {
  /** `false` for none; default: metrics on. */
  readonly metrics?: MetricsSettingsInput | false;
  /** Default: off (the SDK is not even loaded). */
  readonly tracing?: TracingSettingsInput;
  readonly tracingOverrides?: TracingOverrides;
}

export interface Instrumentation {
  readonly metrics: MasterMetrics | undefined;
  readonly tracing: MasterTracing | undefined;
  /** Stops recording, flushes and unregisters tracing; idempotent. */
  close(): Promise<void>;
}

const attached = new WeakMap<Master, Instrumentation>();

/** The instrumentation attached to `master`, if any (the control API's /metrics reads it). */
export function instrumentationOf(master: Master): Instrumentation | undefined {
  return attached.get(master);
}

export async function instrumentMaster(master: Master, options: InstrumentOptions = {}): Promise<Instrumentation> {
  const previous = attached.get(master);
  if (previous !== undefined) await previous.close();
  const metrics = options.metrics === false || (options.metrics !== undefined && options.metrics.enabled === false) ? undefined : new MasterMetrics(master, options.metrics ?? {});
  let tracing: MasterTracing | undefined;
  if (options.tracing?.enabled === true) {
    const { MasterTracing } = await import('./tracing/master-tracing.js');
    tracing = await MasterTracing.start(master, options.tracing, { logger: master.logger, ...options.tracingOverrides });
  }
  let closed = false;
  if (metrics !== undefined || tracing !== undefined) master.use(callMiddleware(() => (closed ? undefined : { metrics, tracing })));
  let closing: Promise<void> | undefined;
  const instrumentation: Instrumentation = {
    metrics,
    tracing,
    close: () => {
      closing ??= (async () => {
        closed = true;
        if (attached.get(master) === instrumentation) attached.delete(master);
        metrics?.close();
        await tracing?.close();
      })();
      return closing;
    },
  };
  attached.set(master, instrumentation);
  return instrumentation;
}

type Live = { metrics: MasterMetrics | undefined; tracing: MasterTracing | undefined } | undefined;

function callMiddleware(live: () => Live): (request: CallRequest, next: CallNext) => Promise<unknown> {
  return (request, next) => {
    const now = live();
    if (now === undefined) return next(request);
    const { metrics, tracing } = now;
    const started = metrics === undefined ? 0 : performance.now();
    const result = tracing === undefined ? next(request) : tracing.traceCall(request, next);
    if (metrics === undefined) return result;
    return result.then(
      (value) => {
        metrics.recordCall(request.target, request.action, true, (performance.now() - started) / 1000);
        return value;
      },
      (error: unknown) => {
        const code = (error as { code?: unknown }).code;
        metrics.recordCall(request.target, request.action, false, (performance.now() - started) / 1000, typeof code === 'string' ? code : undefined);
        throw error;
      },
    );
  };
}
