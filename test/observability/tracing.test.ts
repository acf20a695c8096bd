// Tracing across deployments with an in-memory exporter: the span a module opens is a child of
// the master's call span (and that of the caller's own span) whether the module runs inline, in a
// thread or in its own process; log lines carry the ids; lifecycle and probe spans; sampling; a
// real OTLP/HTTP export to a loopback receiver; and nothing registered after close().
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import pino from 'pino';
import { callContextHook } from '../../src/observability/call-context.js';
import { instrumentMaster, traceLogMixin, type Instrumentation } from '../../src/observability/index.js';
import { reviveSpan } from '../../src/observability/tracing/remote-spans.js';
import { LIVENESS_MS, nodeWorker, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { DEPLOYMENTS, tracedWorker } from './helpers.js';

const T = { timeout: 60_000 };

interface Traced {
  readonly exporter: InMemorySpanExporter;
  readonly observed: Instrumentation;
  readonly lines: Record<string, unknown>[];
}

/** A master logging JSON records into `lines` (with the trace mixin, as `hsu run`'s logger), traced into memory. */
async function withTracedMaster(body: (t: TestMaster, traced: Traced) => Promise<void>, tracing: Record<string, unknown> = {}): Promise<void> {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info', base: undefined, mixin: traceLogMixin }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  await withMaster(
    async (t) => {
      const exporter = new InMemorySpanExporter();
      const observed = await instrumentMaster(t.master, { metrics: false, tracing: { enabled: true, ...tracing }, tracingOverrides: { exporter, simple: true } });
      try {
        await body(t, { exporter, observed, lines });
      } finally {
        await t.master.shutdown();
        await observed.close();
      }
    },
    { logger },
  );
}

async function spanNamed(exporter: InMemorySpanExporter, what: string, pick: (s: ReadableSpan) => boolean): Promise<ReadableSpan> {
  const deadline = Date.now() + LIVENESS_MS;
  for (;;) {
    const found = exporter.getFinishedSpans().find(pick);
    if (found !== undefined) return found;
    // Spans of a thread or process arrive in their own message, just after the call's result.
    if (Date.now() > deadline) assert.fail(`no span ${what}; spans: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

void describe('tracing', () => {
  it("a span opened inside a module is a child of the caller's span: inline, thread and process", T, async () => {
    await withTracedMaster(async (t, { exporter, lines }) => {
      for (const d of DEPLOYMENTS) t.master.addWorker(tracedWorker(`m-${d}`, d));
      await t.master.start();
      for (const d of DEPLOYMENTS) {
        const id = `m-${d}`;
        const tracer = trace.getTracer('test');
        const result = (await tracer.startActiveSpan(`caller ${d}`, async (root) => {
          try {
            return await t.master.call(id, 'work', { tag: d });
          } finally {
            root.end();
          }
        })) as { trace_id: string; span_id: string; pid: number };
        const root = await spanNamed(exporter, `caller ${d}`, (s) => s.name === `caller ${d}`);
        const call = await spanNamed(exporter, `${id}/work`, (s) => s.name === `${id}/work`);
        const inside = await spanNamed(exporter, `fixture.work ${d}`, (s) => s.name === `fixture.work ${d}`);
        assert.equal(parentOf(call), root.spanContext().spanId, `${d}: the call span is the caller's child`);
        assert.equal(parentOf(inside), call.spanContext().spanId, `${d}: the module's span is the call span's child`);
        assert.equal(new Set([root, call, inside].map((s) => s.spanContext().traceId)).size, 1, `${d}: one trace`);
        assert.deepEqual({ trace: result.trace_id, span: result.span_id }, { trace: inside.spanContext().traceId, span: inside.spanContext().spanId }, `${d}: the module saw its own span`);
        assert.equal(call.attributes['rpc.method'], 'work');
        const expectedDeployment = { inline: undefined, thread: 'thread', process: 'host' }[d];
        assert.equal(inside.resource.attributes['hsu.deployment'], expectedDeployment, `${d}: exported with the resource of where it ran`);
        if (d === 'process') assert.notEqual(result.pid, process.pid);
        const log = lines.find((l) => l.worker === id && l.tag === d);
        assert.ok(log !== undefined, `${d}: the module's log line reached the master`);
        assert.deepEqual({ trace_id: log.trace_id, span_id: log.span_id }, { trace_id: result.trace_id, span_id: result.span_id }, `${d}: the log line carries the active span`);
        // An action that opens no span of its own logs under the call span.
        await t.master.call(id, 'plain');
        const plainCall = await spanNamed(exporter, `${id}/plain`, (s) => s.name === `${id}/plain`);
        const plainLog = await t.events.waitFor(`${d} plain log`, () => lines.find((l) => l.worker === id && l.msg === 'plain action'), LIVENESS_MS, 20);
        assert.equal(plainLog.span_id, plainCall.spanContext().spanId);
      }
    });
  });

  it('the trace goes on through a module that calls another (process -> master -> thread)', T, async () => {
    await withTracedMaster(async (t, { exporter }) => {
      t.master.addWorker(tracedWorker('front', 'process'));
      t.master.addWorker(tracedWorker('back', 'thread'));
      await t.master.start();
      const result = (await t.master.call('front', 'work', { tag: 'front', call: 'back' })) as { trace_id: string; nested: { trace_id: string; span_id: string } };
      const outer = await spanNamed(exporter, 'front/work', (s) => s.name === 'front/work');
      const frontSpan = await spanNamed(exporter, 'fixture.work front', (s) => s.name === 'fixture.work front');
      const inner = await spanNamed(exporter, 'back/work', (s) => s.name === 'back/work');
      const backSpan = await spanNamed(exporter, 'fixture.work front-nested', (s) => s.name === 'fixture.work front-nested');
      assert.equal(parentOf(frontSpan), outer.spanContext().spanId);
      assert.equal(parentOf(inner), frontSpan.spanContext().spanId, "the master's call span is the calling module's child");
      assert.equal(parentOf(backSpan), inner.spanContext().spanId);
      assert.equal(result.nested.trace_id, result.trace_id);
      assert.equal(backSpan.spanContext().spanId, result.nested.span_id);
    });
  });

  it('failed calls, lifecycle operations and health probes make spans', T, async () => {
    await withTracedMaster(async (t, { exporter }) => {
      t.master.addWorker(tracedWorker('mod', 'thread'));
      t.master.addWorker(nodeWorker(t, 'svc', 'forever.mjs', [], { health_check: { type: 'runtime', interval: '100ms', initial_delay: '0ms' } }));
      t.master.addWorker(nodeWorker(t, 'crashy', 'crash-after.mjs', ['1', '200'], { restart: { policy: 'on-failure', intensity: { max_restarts: 1, window: '60s' } } }));
      await t.master.start();
      await assert.rejects(t.master.call('mod', 'fail'), { code: 'E_FIXTURE' });
      const failed = await spanNamed(exporter, 'mod/fail', (s) => s.name === 'mod/fail');
      assert.equal(failed.status.code, SpanStatusCode.ERROR);
      assert.equal(failed.attributes['error.type'], 'E_FIXTURE');

      const probe = await spanNamed(exporter, 'a health probe', (s) => s.name === 'hsu.health_probe' && s.attributes['hsu.worker.id'] === 'svc');
      assert.equal(probe.attributes['hsu.probe.ok'], true);
      await t.master.restartWorker('svc');
      await t.master.stopWorker('svc');
      await t.events.state('crashy', 'failed');
      await new Promise((resolve) => setImmediate(resolve));
      const spans = exporter.getFinishedSpans();
      const of = (name: string, worker: string): ReadableSpan[] => spans.filter((s) => s.name === name && s.attributes['hsu.worker.id'] === worker);
      assert.equal(of('hsu.worker.start', 'svc').length, 2);
      assert.equal(of('hsu.worker.stop', 'svc').length, 2);
      const [restart] = of('hsu.worker.restart', 'svc');
      assert.ok(restart !== undefined);
      assert.equal(restart.attributes['hsu.restart.cause'], 'manual');
      assert.equal(restart.status.code, SpanStatusCode.UNSET);
      const secondStart = of('hsu.worker.start', 'svc')[1]!;
      assert.equal(parentOf(secondStart), restart.spanContext().spanId, 'the start of a restart is its child');
      assert.equal(secondStart.attributes['hsu.state.to'], 'running');
      assert.equal(of('hsu.worker.stop', 'svc')[1]!.attributes['hsu.stop.cause'], 'requested');
      const crashRestarts = of('hsu.worker.restart', 'crashy');
      // One restart (the intensity limit gives up at the second crash: no restart, no span).
      assert.deepEqual(crashRestarts.map((s) => [s.attributes['hsu.restart.cause'], s.status.code]), [['policy', SpanStatusCode.UNSET]]);
      assert.equal(of('hsu.worker.start', 'crashy').filter((s) => parentOf(s) === crashRestarts[0]!.spanContext().spanId).length, 1);
      for (const span of spans) assert.ok(span.duration[0] >= 0 && span.duration[1] >= 0, `${span.name} has a duration`);
    });
  });

  it('sample_ratio 0 keeps no trace, and calls work as before', T, async () => {
    await withTracedMaster(
      async (t, { exporter }) => {
        for (const d of DEPLOYMENTS) t.master.addWorker(tracedWorker(`s-${d}`, d));
        await t.master.start();
        for (const d of DEPLOYMENTS) assert.equal(typeof ((await t.master.call(`s-${d}`, 'work', { tag: d })) as { span_id: string }).span_id, 'string');
        await new Promise((resolve) => setTimeout(resolve, 100));
        assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), []);
      },
      { sample_ratio: 0 },
    );
  });

  it('exports over OTLP/HTTP to a collector on loopback, with the SDK loaded only then', T, async () => {
    const bodies: string[] = [];
    const collector = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push(`${req.method} ${req.url} ${req.headers['content-type']} ${req.headers['x-api-key']} ${Buffer.concat(chunks).toString('utf8')}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    try {
      await withMaster(async (t) => {
        assert.equal(callContextHook(), undefined, 'no hook before tracing starts');
        const observed = await instrumentMaster(t.master, { metrics: false, tracing: { enabled: true, exporter: 'otlp', endpoint: `http://127.0.0.1:${port}/v1/traces`, headers: { 'x-api-key': 'k1' }, export_delay: 50 } });
        t.master.addWorker(tracedWorker('otlp-mod', 'thread'));
        await t.master.start();
        await t.master.call('otlp-mod', 'work', { tag: 'otlp' });
        await t.master.shutdown();
        await observed.close(); // flushes
        const all = bodies.join('\n');
        assert.match(all, /^POST \/v1\/traces application\/json k1 /m);
        for (const name of ['otlp-mod/work', 'fixture.work otlp', 'hsu.worker.start']) assert.ok(all.includes(`"name":"${name}"`), `${name} was exported`);
        assert.equal(callContextHook(), undefined, 'the hook is gone after close()');
        assert.equal(trace.getTracer('after').startSpan('x').isRecording(), false, 'the global provider is unregistered');
      });
    } finally {
      await new Promise((resolve) => collector.close(resolve));
    }
  });

  it('rejects bad settings with the key path, and drops malformed spans from a host', T, async () => {
    await withMaster(async (t) => {
      await assert.rejects(instrumentMaster(t.master, { tracing: { enabled: true, exporter: 'console', endpoint: 'http://127.0.0.1:1/v1/traces' } }), (error: Error & { code?: string; context?: { issues?: { path: string }[] } }) => {
        assert.equal(error.code, 'HSU_ERR_CONFIG_INVALID');
        assert.equal(error.context?.issues?.[0]?.path, 'master.tracing.endpoint');
        return true;
      });
      await assert.rejects(instrumentMaster(t.master, { tracing: { enabled: true, sample_ratio: 2 } }), { code: 'HSU_ERR_CONFIG_INVALID' });
      assert.equal(callContextHook(), undefined);
    });
    const resource = (): never => assert.fail('no resource for garbage');
    for (const garbage of [null, 1, 'x', {}, { name: 'n', context: { traceId: 1 } }, { name: 'n', context: { traceId: 'a', spanId: 'b', traceFlags: 1 }, start: 'x', end: [0, 0] }]) {
      assert.equal(reviveSpan(garbage, resource), undefined);
    }
  });
});
