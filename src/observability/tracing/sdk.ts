/**
 * Loads the OpenTelemetry SDK (only when tracing is configured: nobody pays for it otherwise) and
 * registers it for this isolate: the tracer provider, an AsyncLocalStorage context manager and
 * the W3C trace-context propagator. What was already registered by the embedding program stays:
 * hsu then uses it, and unregisters only what it registered itself.
 */
import { context, diag, propagation, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type * as SdkTrace from '@opentelemetry/sdk-trace';
import type { SpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { PooledIdGenerator } from './pooled-ids.js';

export interface LoadedSdk {
  readonly provider: TracerProvider;
  readonly resourceOf: (attributes: Attributes) => Resource;
  /** True when hsu's provider is the global one (else an earlier registration won). */
  readonly global: boolean;
  /** Flushes and shuts the provider down, and gives back every global it registered. */
  shutdown(): Promise<void>;
}

export interface SdkOptions {
  readonly resource: Attributes;
  readonly sampleRatio: number;
  readonly processors: (sdk: typeof SdkTrace) => Promise<SpanProcessor[]> | SpanProcessor[];
}

/**
 * The sampler of a root span. A ratio sampler parses the trace id for every span (~1.4 µs, a
 * fifth of a traced inline call); at 1 and 0 the answer is known without it.
 */
function rootSampler(sdk: typeof SdkTrace, ratio: number): SdkTrace.Sampler {
  if (ratio >= 1) return new sdk.AlwaysOnSampler();
  if (ratio <= 0) return new sdk.AlwaysOffSampler();
  return new sdk.TraceIdRatioBasedSampler(ratio);
}

export async function loadSdk(options: SdkOptions): Promise<LoadedSdk> {
  const [sdk, { AsyncLocalStorageContextManager }, { W3CTraceContextPropagator }, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/context-async-hooks'),
    import('@opentelemetry/core'),
    import('@opentelemetry/resources'),
  ]);
  const provider = new sdk.TracerProvider({
    resource: resourceFromAttributes(options.resource),
    sampler: new sdk.ParentBasedSampler({ root: rootSampler(sdk, options.sampleRatio) }),
    idGenerator: new PooledIdGenerator(),
    spanProcessors: await options.processors(sdk),
  });
  // The API reports a second registration through diag (silent by default) and keeps the first.
  const manager = new AsyncLocalStorageContextManager();
  const ownContext = context.setGlobalContextManager(manager.enable());
  if (!ownContext) manager.disable();
  const ownPropagator = propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const global = trace.setGlobalTracerProvider(provider);
  if (!global) diag.warn('hsu: a global tracer provider was already registered; modules in the master use it');
  return {
    provider,
    resourceOf: (attributes) => resourceFromAttributes(attributes),
    global,
    shutdown: async () => {
      await provider.shutdown();
      if (global) trace.disable();
      if (ownPropagator) propagation.disable();
      if (ownContext) context.disable();
    },
  };
}
