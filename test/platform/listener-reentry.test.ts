// Listeners cannot re-enter the controller mid-transition: events are delivered after the step
// that caused them, so a 'state' listener that stops a worker on waiting_restart ends with the
// worker stopped, no restart event after 'stopped', and no backoff timer left behind. Run as a
// library user in a child process, so the test runner's own handles cannot blur the comparison.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { childScript, reportOf, runChild } from './support.js';

interface Report {
  baseline: string[];
  after: string[];
  events: { name: string; worker_id: string; to?: string; cause?: string }[];
  stopOutcomes: Record<string, string>;
  states: Record<string, string>;
  statesLater: Record<string, string>;
}

void describe('a state listener that stops the worker when it sees waiting_restart', () => {
  let result: Report;
  before(async () => {
    // The bound is well under the 60 s backoff: a timer the stop left armed would hold the child past it.
    result = reportOf(await runChild<Report>(childScript('reentry.child'), [], { timeoutMs: 30_000 }));
  });

  for (const id of ['immediate', 'backoff']) {
    it(`${id}: the stop wins, the worker stays stopped, and no restart event follows 'stopped'`, () => {
      assert.equal(result.stopOutcomes[id], 'stopped');
      assert.equal(result.states[id], 'stopped');
      assert.equal(result.statesLater[id], 'stopped', 'a relaunch came back after the stop');
      const mine = result.events.filter((e) => e.worker_id === id);
      // The premise: the immediate path stops on the first crash, the backoff path with its timer armed on the second.
      assert.equal(mine.filter((e) => e.to === 'waiting_restart').length, id === 'immediate' ? 1 : 2);
      const stoppedAt = mine.findIndex((e) => e.name === 'state' && e.to === 'stopped');
      assert.notEqual(stoppedAt, -1);
      assert.deepEqual(
        mine.slice(stoppedAt + 1).filter((e) => e.name === 'restart' || e.to === 'starting'),
        [],
        `events after 'stopped': ${JSON.stringify(mine)}`,
      );
    });
  }

  it('after removeWorker and shutdown, nothing the master started keeps the process alive', () => {
    assert.deepEqual(result.after, result.baseline);
  });
});
