/**
 * Tracing of one master: a span for every `master.call` (a client span named `<target>/<action>`,
 * the parent of whatever the module opens, whatever its deployment), spans for lifecycle
 * operations and health probes, and the spans that threads and child hosts send back, all
 * exported by one exporter. The SDK is loaded here, only when tracing is enabled.
 */
import { SpanKind, SpanStatusCode, context, createContextKey, trace, type Span, type Tracer } from '@opentelemetry/api';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Logger } from 'pino';
import { hsuVersion } from '../../cli/version.js';
import type { Master } from '../../master/master.js';
import type { CallNext, CallRequest } from '../../master/middleware.js';
import { setCallContextHook } from '../call-context.js';
import { parseSettings, tracingSettingsSchema, type TracingSettings, type TracingSettingsInput } from '../config.js';
import { otelCallContextHook } from './hook.js';
import { LifecycleSpans } from './lifecycle-spans.js';
import { traceProbes } from './probe-spans.js';
import { reviveSpan } from './remote-spans.js';
import { loadSdk, type LoadedSdk } from './sdk.js';

export interface TracingOverrides {
  /** Export to this exporter instead of the configured one (tests: an InMemorySpanExporter). */
  readonly exporter?: SpanExporter;
  /** Export through a SimpleSpanProcessor (each span at once) instead of a batch. */
  readonly simple?: boolean;
  readonly logger?: Logger;
}

const CLIENT = { kind: SpanKind.CLIENT } as const;
/** The call span of the `master.call` under way, kept apart from the active span (a middleware after tracing may open its own). */
const CALL_SPAN = createContextKey('hsu.call_span');
const REMOTE_MODULE = new URL('./remote.js', import.meta.url).href;

export class MasterTracing {
  readonly tracer: Tracer;
  private readonly uninstall: () => void;
  private readonly lifecycle: LifecycleSpans | undefined;
  private readonly untraceProbes: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly settings: TracingSettings,
    private readonly sdk: LoadedSdk,
    private readonly processors: readonly SpanProcessor[],
    master: Master,
    logger: Logger | undefined,
  ) {
    this.tracer = sdk.provider.getTracer('hsu', hsuVersion());
    const remote = { module: REMOTE_MODULE, options: { sample_ratio: settings.sample_ratio, service_name: settings.service_name } };
    this.uninstall = setCallContextHook(
      otelCallContextHook({
        remoteSetup: () => remote,
        receiveSpans: (workerId, spans) => this.receive(workerId, spans, logger),
        routed: noteReplica,
      }),
    );
    if (settings.lifecycle) {
      this.lifecycle = new LifecycleSpans(master, this.tracer);
      this.untraceProbes = traceProbes(master, this.tracer);
    }
  }

  /** Loads the SDK and starts tracing `master`; with `enabled: false` there is nothing to start. */
  static async start(master: Master, settings: TracingSettingsInput, overrides: TracingOverrides = {}): Promise<MasterTracing> {
    const parsed = parseSettings(tracingSettingsSchema, settings, 'master.tracing');
    const processors: SpanProcessor[] = [];
    const sdk = await loadSdk({
      resource: { 'service.name': parsed.service_name, 'service.version': hsuVersion(), 'process.pid': process.pid, 'hsu.role': 'master' },
      sampleRatio: parsed.sample_ratio,
      processors: async (api) => {
        const exporter = overrides.exporter ?? (await configuredExporter(parsed, api));
        if (exporter === undefined) return processors; // exporter none: spans are made and dropped
        processors.push(overrides.simple === true ? new api.SimpleSpanProcessor({ exporter }) : new api.BatchSpanProcessor({ exporter, scheduledDelayMillis: parsed.export_delay }));
        return processors;
      },
    });
    return new MasterTracing(parsed, sdk, processors, master, overrides.logger);
  }

  /** The call middleware's part: a client span around the call, active while the call is made. */
  traceCall(request: CallRequest, next: CallNext): Promise<unknown> {
    const parent = context.active();
    // Attributes after the sampling decision: given to startSpan the SDK cleans them twice, and for a span it then drops.
    const span = this.tracer.startSpan(`${request.target}/${request.action}`, CLIENT, parent);
    const active = trace.setSpan(parent, span).setValue(CALL_SPAN, span);
    // Not sampled: the span still rides the context (its children are dropped too, in a thread or a process as well),
    // but ending or failing it does nothing, so the call's own promise is the answer.
    if (!span.isRecording()) return context.with(active, next, undefined, request);
    span.setAttributes({ 'rpc.system': 'hsu', 'rpc.service': request.target, 'rpc.method': request.action });
    return context.with(active, next, undefined, request).then(
      (value) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    );
  }

  /** Exports what is buffered now. */
  async flush(): Promise<void> {
    await this.sdk.provider.forceFlush();
  }

  /** Ends open lifecycle spans, flushes, shuts the SDK down and unregisters it. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifecycle?.close();
      this.untraceProbes?.();
      this.uninstall();
      await this.sdk.shutdown();
    })();
    return this.closing;
  }

  private receive(workerId: string, spans: readonly unknown[], logger: Logger | undefined): void {
    let bad = 0;
    for (const value of spans) {
      const span = reviveSpan(value, this.sdk.resourceOf);
      if (span === undefined) bad += 1;
      else for (const processor of this.processors) processor.onEnd(span);
    }
    if (bad > 0) logger?.warn({ worker: workerId, dropped: bad }, 'tracing: spans from a hosted module were malformed and dropped');
  }
}

/**
 * The call span of a routed call says which replica served it: the call middleware starts the span
 * before the router picks, so the pick is noted on it (that span, not whatever span is active: a
 * middleware after tracing may have opened one). An event per attempt (a retry picks again), and
 * the attributes of the last one.
 */
function noteReplica(replica: { readonly id: string; readonly node: string }): void {
  const span = context.active().getValue(CALL_SPAN) as Span | undefined;
  if (span === undefined || !span.isRecording()) return;
  const attributes = { 'hsu.replica.id': replica.id, 'hsu.replica.node': replica.node };
  span.setAttributes(attributes);
  span.addEvent('hsu.route', attributes);
}

export function failSpan(span: Span, error: unknown): void {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : 'HSU_ERR_UNKNOWN';
  span.setAttribute('error.type', code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: typeof e.message === 'string' ? e.message : String(error) });
}

async function configuredExporter(settings: TracingSettings, sdk: typeof SdkTrace): Promise<SpanExporter | undefined> {
  if (settings.exporter === 'none') return undefined;
  if (settings.exporter === 'console') return new sdk.ConsoleSpanExporter();
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  return new OTLPTraceExporter({ ...(settings.endpoint === undefined ? {} : { url: settings.endpoint }), headers: settings.headers });
}
