// Which replica served a routed call, on its trace: the call span (started by the call middleware
// before the router picks) carries `hsu.replica.id` / `hsu.replica.node` of the replica that
// served it, and one `hsu.route` event per attempt, so a retry elsewhere shows both picks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { instrumentMaster } from '../../src/observability/index.js';
import { withConfig, type Served } from './helpers.js';
import { replicaWorker } from './yaml.js';

const T = { timeout: 90_000 };

const routes = (span: ReadableSpan): unknown[] => span.events.filter((e) => e.name === 'hsu.route').map((e) => e.attributes?.['hsu.replica.id']);

void describe('the replica on the trace of a routed call', () => {
  it('names the replica that served each call; a retry shows both picks, the last one as the attribute', T, async () => {
    await withConfig(
      (p) =>
        replicaWorker(p, { id: 'rr', deployment: 'inline', extra: '    instances: 3' }) +
        replicaWorker(p, { id: 'sp', deployment: 'inline', extra: '    instances: 2\n    resilience: { timeout: 200ms, retry: { max_attempts: 2, backoff: { initial: 10ms, max: 20ms } }, idempotent_actions: [work] }' }),
      async ({ master, flag }) => {
        const exporter = new InMemorySpanExporter();
        const observed = await instrumentMaster(master, { metrics: false, tracing: { enabled: true, lifecycle: false }, tracingOverrides: { exporter, simple: true } });
        try {
          await master.start();
          const served: string[] = [];
          for (let i = 0; i < 3; i++) served.push(((await master.call('rr', 'work', {})) as Served).worker);
          const spans = exporter.getFinishedSpans().filter((s) => s.name === 'rr/work');
          assert.equal(spans.length, 3);
          assert.deepEqual(
            spans.map((s) => s.attributes['hsu.replica.id']),
            served,
            'each span names the replica that answered',
          );
          assert.deepEqual([...new Set(served)].sort(), ['rr#0', 'rr#1', 'rr#2']);
          for (const span of spans) {
            assert.equal(span.attributes['hsu.replica.node'], 'local');
            assert.deepEqual(routes(span), [span.attributes['hsu.replica.id']], 'one pick, one event');
          }

          // A direct call to a replica is not routed: its target is the replica, and nothing is added.
          await master.call('rr#1', 'work', {});
          const direct = exporter.getFinishedSpans().find((s) => s.name === 'rr#1/work');
          assert.equal(direct?.attributes['hsu.replica.id'], undefined);
          assert.deepEqual(direct === undefined ? undefined : routes(direct), []);

          // sp#0 never answers in time: a call that lands on it times out there and is retried on sp#1.
          flag('slow', 'sp#0');
          exporter.reset();
          for (let i = 0; i < 2; i++) assert.equal(((await master.call('sp', 'work', {})) as Served).worker, 'sp#1');
          const retried = exporter.getFinishedSpans().find((s) => s.name === 'sp/work' && routes(s).length === 2);
          assert.ok(retried !== undefined, `one of two round-robin calls met sp#0 first: ${JSON.stringify(exporter.getFinishedSpans().map(routes))}`);
          assert.deepEqual(routes(retried), ['sp#0', 'sp#1']);
          assert.equal(retried.attributes['hsu.replica.id'], 'sp#1', 'the attribute is the replica that served it');
        } finally {
          await master.shutdown();
          await observed.close();
        }
      },
    );
  });
});
