// The hot paths under load with a memory bound: calls through the instrumentation (metrics and
// tracing, inline and in a thread) and repeated scrapes; heap after GC stays within a bound, and
// nothing is left listening or scheduled after close().
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { instrumentMaster } from '../../src/observability/index.js';
import { withMaster } from '../helpers/master-helpers.js';
import { tracedWorker } from './helpers.js';
import { heapAfterGc } from '../helpers/gc.js';


const MiB = 1024 * 1024;

void describe('observability soak', () => {
  it('calls through metrics and tracing and repeated scrapes keep the heap within a bound', { timeout: 120_000 }, async () => {
    await withMaster(async (t) => {
      // Spans are exported and dropped at once: what is measured is hsu's own retention.
      const exporter = new InMemorySpanExporter();
      const observed = await instrumentMaster(t.master, { tracing: { enabled: true }, tracingOverrides: { exporter, simple: true } });
      t.master.addWorker(tracedWorker('inl', 'inline'));
      t.master.addWorker(tracedWorker('thr', 'thread'));
      t.master.addWorker(tracedWorker('rep', 'inline', { instances: 2 })); // routed calls: resolved to their service once
      await t.master.start();
      const round = async (calls: number): Promise<void> => {
        for (let i = 0; i < calls; i++) {
          await t.master.call('inl', 'plain');
          if (i % 10 === 0) await t.master.call('thr', 'plain');
          if (i % 4 === 0) await t.master.call('rep', 'plain');
        }
        exporter.reset();
        await observed.metrics!.render();
      };
      await round(2_000); // warm up: JIT, lazily built maps, first buckets
      const before = heapAfterGc();
      for (let r = 0; r < 20; r++) await round(2_000);
      await new Promise((resolve) => setTimeout(resolve, 50)); // the thread's last spans arrive
      exporter.reset();
      const grown = heapAfterGc() - before;
      assert.ok(grown < 8 * MiB, `heap grew by ${(grown / MiB).toFixed(1)} MiB over 40,000 traced calls and 20 scrapes`);
      const text = await observed.metrics!.render();
      assert.match(text, /hsu_call_duration_seconds_count\{worker_id="inl",service="inl",action="plain",outcome="ok"\} 42000/);
      assert.match(text, /hsu_call_duration_seconds_count\{worker_id="_routed",service="rep",action="plain",outcome="ok"\} 10500/);
      await t.master.shutdown();
      await observed.close();
      assert.equal(t.master.events.listenerCount('state'), 1, "only the test's own event log listens");
    });
  });
});
