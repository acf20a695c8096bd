// Memory on the call hot paths: calls with { timeout } or { signal } must not grow the master's
// heap. 200k inline calls and 20k thread and hosted calls per phase, each deployment in its own
// child process run with --expose-gc, the heap read after a full collection before and after.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childScript, reportOf, runChild } from './support.js';

/** Heap growth allowed per phase after gc: what a leak of ~150 bytes per inline call (~1.5 KB per thread or hosted call) would add. */
const HEAP_BOUND_BYTES = 30 * 1024 * 1024;

interface Report {
  deployment: string;
  calls: number;
  growth: Record<string, number>;
  signalListeners: number;
}

void describe('memory soak of calls with a deadline or a signal', () => {
  for (const [deployment, calls] of [
    ['inline', 200_000],
    ['thread', 20_000],
    ['process', 20_000],
  ] as const) {
    it(`${deployment}: ${calls} calls with { timeout: 1000 } and ${calls} with one long-lived { signal } stay within ${HEAP_BOUND_BYTES / 1024 / 1024} MB of heap`, { timeout: 120_000 }, async () => {
      const result = reportOf(await runChild<Report>(childScript('soak.child'), [deployment], { execArgv: ['--expose-gc'], timeoutMs: 110_000 }));
      assert.equal(result.calls, calls);
      assert.deepEqual(Object.keys(result.growth).sort(), ['signal', 'timeout']);
      for (const [phase, growth] of Object.entries(result.growth)) {
        assert.ok(growth < HEAP_BOUND_BYTES, `${phase}: the heap grew by ${(growth / 1024 / 1024).toFixed(1)} MB over ${calls} calls`);
      }
      assert.equal(result.signalListeners, 0, 'every call removed its listener from the caller’s signal');
    });
  }
});
