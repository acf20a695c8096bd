// Property test (fast-check) of the checkpoint and retry logic against a simple model, on real
// SQLite files. Generated: how often each message fails before it succeeds, the attempt limit,
// the batch size, sync or async handlers, at-least-once or exactly-once, and stops (with the
// handler in flight cancelled) at arbitrary calls followed by a restart from the checkpoint.
// The model replays the trace of handler calls and checks every call was the one it had to be.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { CommandWorker } from '../../src/messaging/index.js';
import { openLog, Task, useScratch, waitFor, type TestTypes } from './helpers.js';

interface Scenario {
  failTimes: number[];
  maxAttempts: number;
  batchSize: number;
  async: boolean;
  exactlyOnce: boolean;
  stopAtCalls: number[];
}

interface Call {
  run: number;
  id: number;
  delivery: number;
  outcome: 'ok' | 'fail' | 'cancelled';
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    failTimes: fc.array(fc.nat({ max: 4 }), { minLength: 1, maxLength: 14 }),
    maxAttempts: fc.integer({ min: 1, max: 3 }),
    batchSize: fc.integer({ min: 1, max: 6 }),
    async: fc.boolean(),
    exactlyOnce: fc.boolean(),
    stopAtCalls: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { maxLength: 3 }),
  })
  // Exactly-once handlers are synchronous by contract.
  .map((s) => ({ ...s, async: s.exactlyOnce ? false : s.async }));

const scratch = useScratch('property');
let runs = 0;

async function execute(s: Scenario): Promise<{ calls: Call[]; dead: Map<number, number>; checkpoint: number; effects: Map<number, number> }> {
  const db = path.join(scratch.dir, `p${++runs}.db`);
  const log = openLog(db);
  log.db.exec('CREATE TABLE effects (message_id INTEGER NOT NULL)');
  await log.appendBatch(s.failTimes.map((_, n) => Task({ n })));
  const calls: Call[] = [];
  const callsOf = new Map<number, number>();
  let run = 0;
  let stopRequested = false;
  const make = (): CommandWorker<TestTypes, null> => {
    const worker = new CommandWorker({ name: 'prop', state: null, log, batchSize: s.batchSize, exactlyOnce: s.exactlyOnce, retry: { maxAttempts: s.maxAttempts, backoffMs: 0, maxBackoffMs: 0 } });
    return worker.onCommand('task/run', (command, message, ctx) => {
      const previous = callsOf.get(message.id) ?? 0;
      callsOf.set(message.id, previous + 1);
      const call: Call = { run, id: message.id, delivery: ctx.delivery, outcome: 'ok' };
      calls.push(call);
      const stopHere = s.stopAtCalls.includes(calls.length);
      if (stopHere) stopRequested = true;
      const fails = previous < (s.failTimes[command.payload.n] ?? 0);
      if (s.async && stopHere) {
        // In flight when the stop comes: cancelled through the signal.
        call.outcome = 'cancelled';
        return new Promise<void>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
      }
      if (fails) {
        call.outcome = 'fail';
        throw new Error(`planned failure ${previous + 1}`);
      }
      ctx.db?.prepare('INSERT INTO effects (message_id) VALUES (?)').run(message.id);
      return s.async ? Promise.resolve() : undefined;
    });
  };
  const head = s.failTimes.length;
  try {
    for (;;) {
      run++;
      stopRequested = false;
      const worker = make();
      await worker.start();
      await waitFor('done or a stop', () => (stopRequested || worker.diagnostics().checkpoint === head ? true : undefined), 10_000, 1);
      await worker.stop();
      if (!stopRequested && worker.diagnostics().checkpoint === head) break;
      assert.ok(run < 10, 'a bounded number of runs');
    }
    const dead = new Map((await log.consumers.listDeadLetters('prop')).map((l) => [l.message_id, l.attempts]));
    const checkpoint = (log.db.prepare("SELECT last_id FROM hsu_consumers WHERE consumer = 'prop'").get() as { last_id: number }).last_id;
    const effects = new Map((log.db.prepare('SELECT message_id, count(*) AS n FROM effects GROUP BY message_id').all() as { message_id: number; n: number }[]).map((r) => [r.message_id, r.n]));
    return { calls, dead, checkpoint, effects };
  } finally {
    await log.close();
  }
}

/** The model: messages in id order; each delivered until it succeeds or has had maxAttempts deliveries. */
function check(s: Scenario, result: Awaited<ReturnType<typeof execute>>): void {
  const count = s.failTimes.length;
  const deliveries = new Map<number, number>();
  const expectedDead = new Map<number, number>();
  const done = new Set<number>();
  let next = 1;
  let lastRun = 0;
  const finished = (id: number): boolean => done.has(id) || expectedDead.has(id);
  const skipFinished = (): void => {
    while (next <= count && finished(next)) next++;
  };
  for (const call of result.calls) {
    if (call.run !== lastRun) {
      lastRun = call.run;
      // A message whose deliveries were all cut short by stops is buried before another one.
      skipFinished();
      if (next <= count && (deliveries.get(next) ?? 0) >= s.maxAttempts) expectedDead.set(next, deliveries.get(next) ?? 0);
    }
    skipFinished();
    assert.equal(call.id, next, `call ${JSON.stringify(call)}: the lowest unfinished message must be delivered`);
    const delivery = (deliveries.get(call.id) ?? 0) + 1;
    deliveries.set(call.id, delivery);
    assert.equal(call.delivery, delivery, `call ${JSON.stringify(call)}: the delivery count`);
    if (call.outcome === 'ok') done.add(call.id);
    if (call.outcome === 'fail' && delivery >= s.maxAttempts) expectedDead.set(call.id, delivery);
  }
  skipFinished();
  if (next <= count && (deliveries.get(next) ?? 0) >= s.maxAttempts) expectedDead.set(next, deliveries.get(next) ?? 0);
  for (let id = 1; id <= count; id++) assert.ok(done.has(id) || expectedDead.has(id), `message ${id} neither handled nor dead`);
  assert.deepEqual([...result.dead].sort((a, b) => a[0] - b[0]), [...expectedDead].sort((a, b) => a[0] - b[0]), 'dead letters and their attempts');
  assert.equal(result.checkpoint, count, 'the checkpoint reaches the head');
  if (s.exactlyOnce) assert.deepEqual([...result.effects].sort((a, b) => a[0] - b[0]), [...done].sort((a, b) => a - b).map((id) => [id, 1]), 'one effect per handled message');
}

test('checkpoint and retries match the model under failures and stops (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(scenario, async (s) => {
      check(s, await execute(s));
    }),
    { numRuns: Number(process.env.HSU_PROPERTY_RUNS ?? 60), verbose: 1 },
  );
});
