// The master's logger carries trace ids without @opentelemetry/api on its import path: a fresh
// process that creates the logger and logs loads no OpenTelemetry file and adds no ids; once an
// SDK is registered (the embedding program's own, or hsu's hook) records inside a span carry the
// span's ids and records outside carry none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { setCallContextHook } from '../../src/observability/call-context.js';
import { lazyTraceLogMixin } from '../../src/observability/trace-log-fields.js';
import { otelCallContextHook } from '../../src/observability/tracing/hook.js';

const LOGGER = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/observability/logger.js')).href;

/** Registers a real SDK (provider + context manager) globally for the duration of `body`. */
async function withSdk(body: () => Promise<void> | void): Promise<void> {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  trace.setGlobalTracerProvider(new TracerProvider());
  try {
    await body();
  } finally {
    trace.disable();
    context.disable();
  }
}

void describe('lazy trace log mixin', () => {
  it('creating the logger and logging loads no OpenTelemetry file, and a record carries no ids', () => {
    const script = `
      const { registerHooks } = await import('node:module');
      const loaded = [];
      registerHooks({ load: (url, ctx, next) => (loaded.push(url), next(url, ctx)) });
      const { createLogger } = await import(${JSON.stringify(LOGGER)});
      const { logger } = await createLogger({ format: 'json' });
      logger.info('hello');
      await new Promise((resolve) => setTimeout(resolve, 50));
      process.stderr.write(JSON.stringify(loaded.filter((u) => u.includes('@opentelemetry'))));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stderr) as string[], []);
    const record = JSON.parse(result.stdout.trim().split('\n')[0] ?? '{}') as Record<string, unknown>;
    assert.equal(record.msg, 'hello');
    assert.equal(record.trace_id, undefined);
    assert.equal(record.span_id, undefined);
  });

  it('with no OpenTelemetry global registered, the mixin adds nothing', () => {
    assert.deepEqual(lazyTraceLogMixin(), {});
  });

  it("inside a span of the embedding program's own SDK, the ids of that span; outside, none", async () => {
    await withSdk(() => {
      const tracer = trace.getTracer('test');
      assert.deepEqual(lazyTraceLogMixin(), {});
      tracer.startActiveSpan('outer', (span) => {
        const sc = span.spanContext();
        assert.deepEqual(lazyTraceLogMixin(), { trace_id: sc.traceId, span_id: sc.spanId });
        span.end();
      });
      assert.deepEqual(lazyTraceLogMixin(), {});
    });
  });

  it("with hsu's call-context hook installed, the hook answers: the active span's ids", async () => {
    await withSdk(() => {
      const remove = setCallContextHook(otelCallContextHook());
      try {
        trace.getTracer('test').startActiveSpan('call', (span) => {
          const sc = span.spanContext();
          assert.deepEqual(lazyTraceLogMixin(), { trace_id: sc.traceId, span_id: sc.spanId });
          span.end();
        });
        assert.deepEqual(lazyTraceLogMixin(), {});
      } finally {
        remove();
      }
    });
  });
});
