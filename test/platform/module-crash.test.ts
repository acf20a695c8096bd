// A module's crash is a state change at once; the cleanup follows. An inline module whose timer
// reports a fatal error while its stop() hangs must leave `running` right away (not when the stop
// timeout gives up), its calls must be refused or interrupted from that moment, and the restarted
// instance must start only once the old stop() has finished. A thread module likewise, with its
// thread terminated after stop_timeout.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Master, StateChangeEvent, WorkerConfigInput } from '../../src/index.js';
import { diagnostics, rejectsWithCode, tempDir, withMaster, type EventLog } from '../helpers/master-helpers.js';
import { indexOfLine, logLines, platformFixture, waitFor } from './support.js';

const T = { timeout: 60_000 };
const scratch = tempDir('module-crash');
after(() => scratch.remove());
let files = 0;

const RESTART = { policy: 'on-failure', backoff: { initial: '10ms', max: '50ms', jitter: 0 }, intensity: { max_restarts: 10, window: '60s' } } as const;

function crashWorker(id: string, isolation: 'inline' | 'thread', config: Record<string, unknown>, stopTimeout: string): WorkerConfigInput {
  return {
    id,
    type: 'module',
    stop_timeout: stopTimeout,
    restart: RESTART,
    module: { module_type: 'plugin', module_path: platformFixture('crash-gated.mjs'), isolation, config },
  } as WorkerConfigInput;
}

/** How long the crash may take to become a state change: far less than the inline worker's 30 s stop timeout. */
const CRASH_BOUND_MS = 10_000;

/**
 * Starts `id`, leaves a call in flight, makes the module crash and waits (bounded) for the first
 * state event leaving `running`. A call made from that listener at once is refused, the one in
 * flight is interrupted. Returns the event log as it was at that moment.
 */
async function crashWithCallInFlight(master: Master, id: string, log: string): Promise<string[]> {
  await master.startWorker(id);
  assert.equal(await master.call(id, 'ping'), 1);
  const inFlight = master.call(id, 'hold');
  inFlight.catch(() => undefined); // asserted below
  const crashed = new Promise<{ event: StateChangeEvent; callAtOnce: Promise<unknown>; logAtEvent: string[] }>((resolve) => {
    const off = master.on('state', (event) => {
      if (event.worker_id !== id || event.from !== 'running') return;
      off();
      const callAtOnce = master.call(id, 'ping');
      callAtOnce.catch(() => undefined); // asserted below
      resolve({ event, callAtOnce, logAtEvent: logLines(log) });
    });
  });
  await master.call(id, 'arm');
  let bound: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (bound = setTimeout(() => resolve('late'), CRASH_BOUND_MS)));
  const outcome = await Promise.race([crashed, late]);
  clearTimeout(bound);
  assert.ok(outcome !== 'late', `the crash was no state change within ${CRASH_BOUND_MS} ms (it is ${master.getWorkerState(id)})`);
  const { event, callAtOnce, logAtEvent } = outcome;
  assert.ok(event.to === 'waiting_restart' || event.to === 'failed', `crash became ${event.from} -> ${event.to}`);
  await rejectsWithCode(callAtOnce, 'HSU_ERR_CALL_NOT_RUNNING');
  await rejectsWithCode(inFlight, 'HSU_ERR_CALL_INTERRUPTED');
  return logAtEvent;
}

void describe('an inline module that crashes while its stop() hangs', () => {
  it('leaves running at once, refuses and interrupts calls, and restarts only after the old stop() finished', T, () =>
    withMaster(async ({ master, events }) => {
      const log = path.join(scratch.dir, `inline-${++files}.log`);
      const release = path.join(scratch.dir, `inline-${files}.release`);
      master.addWorker(crashWorker('inl', 'inline', { log, release }, '30s'));
      try {
        await crashAndRestart(master, events, log, release);
      } finally {
        writeFileSync(release, ''); // whatever happened, no stop() may be left polling in this process
      }
    }),
  );
});

async function crashAndRestart(master: Master, events: EventLog, log: string, release: string): Promise<void> {
  // A crash hidden until stop() gives up (30 s) misses the bound.
  const logAtEvent = await crashWithCallInFlight(master, 'inl', log);
  assert.equal(diagnostics(master, 'inl').last_error?.code, 'HSU_ERR_MODULE_FATAL');
  assert.ok(!logAtEvent.includes('stop-end 1'), 'the state changed before the hanging stop() was released');
  await rejectsWithCode(master.call('inl', 'ping'), 'HSU_ERR_CALL_NOT_RUNNING');
  assert.notEqual(master.getWorkerState('inl'), 'running', 'the restart must wait for the old stop()');

  const before = logLines(log);
  assert.ok(!before.includes('start 2'), 'the new instance started while the old stop() still ran');
  const crash = indexOfLine(before, 'crash 1');
  assert.deepEqual(
    before.slice(crash + 1).filter((l) => l.startsWith('call-')),
    [],
    'no call reached the crashed instance after its crash',
  );

  writeFileSync(release, '');
  await events.state('inl', 'running', 2);
  assert.equal(await master.call('inl', 'ping'), 2);
  const lines = logLines(log);
  const order = ['start 1', 'crash 1', 'stop-begin 1', 'stop-end 1', 'start 2'].map((l) => indexOfLine(lines, l));
  assert.deepEqual(order, [...order].sort((a, b) => a - b), `events out of order:\n${lines.join('\n')}`);
  assert.equal(diagnostics(master, 'inl').last_error?.code, 'HSU_ERR_MODULE_FATAL');
  assert.deepEqual(events.transitions('inl').slice(2, 3), ['running->waiting_restart']);
}

void describe('a thread module that reports a fatal error while its stop() hangs', () => {
  it('leaves running at once while its code still runs; the thread is terminated after stop_timeout, then restarted', T, () =>
    withMaster(async ({ master, events }) => {
      const log = path.join(scratch.dir, `thread-${++files}.log`);
      master.addWorker(crashWorker('thr', 'thread', { log, beat_ms: 25 }, '1500ms'));
      const logAtEvent = await crashWithCallInFlight(master, 'thr', log);

      // The thread's code still runs after the state change: the change did not wait for its end.
      const beatsAtEvent = logAtEvent.filter((l) => l === 'beat 1').length;
      await waitFor('a heartbeat of the crashed instance after the state change', () => logLines(log).filter((l) => l === 'beat 1').length > beatsAtEvent);

      await events.state('thr', 'running', 2);
      const lines = logLines(log);
      const secondStart = indexOfLine(lines, 'start 2');
      assert.ok(indexOfLine(lines, 'stop-begin 1') < secondStart);
      assert.ok(!lines.includes('stop-end 1'), 'the hanging stop() never finished: the thread was terminated');
      assert.deepEqual(
        lines.slice(secondStart).filter((l) => l === 'beat 1'),
        [],
        'the old thread was gone before the new instance started',
      );
      assert.equal(diagnostics(master, 'thr').last_error?.code, 'HSU_ERR_MODULE_FATAL');
      assert.equal(await master.call('thr', 'ping'), 2);
    }),
  );
});
