// The watchdog seam: a watchdog handed to the master (MasterOptions.watchdogs) watches each running
// instance and may ask the controller to restart or stop it with a cause. A 'limit' restart runs
// running -> stopping(limit) -> waiting_restart -> starting -> running with a restart event of cause
// limit and HSU_ERR_LIMIT_EXCEEDED; a 'limit' stop leaves the worker stopped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Instance, Master, StateChangeEvent, Watchdog, WatchdogAction, WatchdogControl, WorkerConfig } from '../../src/index.js';
import { diagnostics, pluginWorker, withMaster } from '../helpers/master-helpers.js';

const T = { timeout: 30_000 };

/** A limit watchdog the test fires by hand, once per instance it was begun for. */
class ManualLimit implements Watchdog {
  readonly name = 'manual_limit';
  readonly begun: Instance[] = [];
  ended = 0;
  private control: WatchdogControl | undefined;

  begin(instance: Instance, control: WatchdogControl): void {
    this.begun.push(instance);
    this.control = control;
  }

  end(): void {
    this.ended += 1;
    this.control = undefined;
  }

  snapshot(): object {
    return { begun: this.begun.length, ended: this.ended, armed: this.control !== undefined };
  }

  fire(action: WatchdogAction): void {
    assert.ok(this.control !== undefined, 'the watchdog is not watching a running instance');
    this.control.request(action, 'limit', 'over the test limit');
  }
}

function withLimit(body: (master: Master, limit: ManualLimit, stopping: Promise<{ event: StateChangeEvent; stop_cause: string | null }>) => Promise<void>): Promise<void> {
  const limit = new ManualLimit();
  const factory = (config: WorkerConfig): Watchdog | undefined => (config.id === 'w' ? limit : undefined);
  return withMaster(
    async ({ master }) => {
      // What diagnostics say while the limit's stop is under way (delivered right after the transition).
      const stopping = new Promise<{ event: StateChangeEvent; stop_cause: string | null }>((resolve) => {
        master.on('state', (event) => {
          if (event.worker_id === 'w' && event.to === 'stopping') resolve({ event, stop_cause: master.getWorkerStateWithDiagnostics('w').stop_cause });
        });
      });
      master.addWorker(pluginWorker('w', 'ok.mjs', {}, { restart: { policy: 'on-failure', backoff: { initial: '10ms', max: '20ms' } } }));
      await master.startWorker('w');
      await body(master, limit, stopping);
    },
    { watchdogs: [factory] },
  );
}

void describe('a custom watchdog', () => {
  it("'restart' with cause limit: stopping(limit) -> waiting_restart -> starting -> running, a restart of cause limit", T, () =>
    withLimit(async (master, limit, stopping) => {
      const { watchdogs } = diagnostics(master, 'w') as unknown as { watchdogs: Record<string, unknown> };
      assert.deepEqual(watchdogs.manual_limit, { begun: 1, ended: 0, armed: true });
      const before = await master.call('w', 'instance');
      const restarted = master.once('state', (e) => e.worker_id === 'w' && e.from === 'starting' && e.to === 'running');
      const restartEvent = master.once('restart', (e) => e.worker_id === 'w');
      limit.fire('restart');
      const during = await stopping;
      assert.equal(during.event.cause, 'limit');
      assert.equal(during.stop_cause, 'limit');
      await restarted;
      assert.equal((await restartEvent).cause, 'limit');
      assert.notEqual(await master.call('w', 'instance'), before, 'a new instance runs');
      const d = diagnostics(master, 'w');
      assert.deepEqual(
        d.history.map((h) => `${h.from}->${h.to}${(h as { cause?: string }).cause === undefined ? '' : `(${(h as { cause?: string }).cause})`}`),
        ['idle->starting', 'starting->running', 'running->stopping(limit)', 'stopping->waiting_restart', 'waiting_restart->starting', 'starting->running'],
      );
      assert.equal(d.last_error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
      assert.equal(limit.begun.length, 2, 'the watchdog watches the new instance');
      assert.ok(limit.ended >= 1, 'it was ended for the old one');
    }),
  );

  it('after a limit restart, diagnostics still say the last stop was caused by the limit', T, () =>
    withLimit(async (master, limit) => {
      const restarted = master.once('state', (e) => e.worker_id === 'w' && e.from === 'starting' && e.to === 'running');
      limit.fire('restart');
      await restarted;
      assert.equal(master.getWorkerStateWithDiagnostics('w').stop_cause, 'limit');
    }),
  );

  it("'stop' with cause limit leaves the worker stopped, with HSU_ERR_LIMIT_EXCEEDED and stop_cause limit", T, () =>
    withLimit(async (master, limit, stopping) => {
      const stopped = master.once('state', (e) => e.worker_id === 'w' && e.to === 'stopped');
      limit.fire('stop');
      assert.equal((await stopping).event.cause, 'limit');
      assert.equal((await stopped).cause, 'limit');
      const d = master.getWorkerStateWithDiagnostics('w');
      assert.equal(d.state, 'stopped');
      assert.equal(d.stop_cause, 'limit');
      assert.equal(d.last_error?.code, 'HSU_ERR_LIMIT_EXCEEDED');
      assert.equal(d.restart_count, 0);
      // Nothing restarts it behind the operator's back.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(master.getWorkerState('w'), 'stopped');
    }),
  );
});
