// The executor: validate, check, append, apply; typed errors without a crash; state rebuilt by
// replay; commands appended by another connection applied in id order before the caller's own.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Executor } from '../../src/messaging/index.js';
import { assertCode, openLog, Other, Task, useScratch } from './helpers.js';

describe('Executor', () => {
  const scratch = useScratch('executor');
  const file = scratch.file;

  const make = (log: ReturnType<typeof openLog>): Executor<typeof Task | typeof Other, { sum: number; labels: string[] }> =>
    new Executor({ log, state: { sum: 0, labels: [] as string[] } })
      .onApply('task/run', (state, command) => {
        if (command.payload.n === 13) throw new Error('unlucky');
        state.sum += command.payload.n;
      }, { check: (_state, command) => {
        if (command.payload.n < 0) throw new Error('negative');
      } })
      .onApply('other/thing', (state, command) => void state.labels.push(command.payload.label));

  test('execute validates, appends and applies; refusals are coded and store nothing', async () => {
    const log = openLog(file('execute'));
    const executor = make(log);
    try {
      assert.deepEqual(await executor.execute(Task({ n: 5 })), { id: 1 });
      await executor.execute(Other({ label: 'a' }));
      assert.deepEqual(executor.state, { sum: 5, labels: ['a'] });
      await assertCode(() => executor.execute({ name: 'task/run', payload: { n: 'x' } } as never), 'HSU_ERR_COMMAND_INVALID');
      await assertCode(() => executor.execute({ name: 'nope', payload: {} } as never), 'HSU_ERR_COMMAND_UNKNOWN');
      await assertCode(() => executor.execute(Task({ n: -1 })), 'HSU_ERR_COMMAND_REJECTED');
      assert.equal(await log.head(), 2, 'refused commands are not logged');
      await assertCode(() => executor.execute(Task({ n: 13 })), 'HSU_ERR_EXECUTOR_APPLY_FAILED');
      assert.equal(await log.head(), 3, 'a command whose apply failed is logged');
      assert.equal(executor.state.sum, 5);
      await executor.execute(Task({ n: 1 }));
      assert.equal(executor.state.sum, 6, 'the executor keeps working after a failed apply');
      const [letter] = await log.consumers.listDeadLetters('executor');
      assert.equal(letter?.message_id, 3);
      assert.equal(letter?.error_code, 'HSU_ERR_EXECUTOR_APPLY_FAILED');
    } finally {
      await log.close();
    }
  });

  test('replay rebuilds the state from the log at start-up', async () => {
    const log = openLog(file('replay'));
    const first = make(log);
    for (let n = 0; n < 100; n++) if (n !== 13) await first.execute(Task({ n }));
    await first.execute(Other({ label: 'z' }));
    await log.close();
    const reopened = openLog(file('replay'));
    try {
      const second = make(reopened);
      await second.replay();
      assert.deepEqual(second.state, first.state);
      assert.equal(second.diagnostics().applied, 100);
      assert.equal(second.state.sum, 4950 - 13);
    } finally {
      await reopened.close();
    }
  });

  test('commands appended by another connection are applied in id order before the caller\'s own', async () => {
    const log = openLog(file('others'));
    const other = openLog(file('others'));
    const executor = make(log);
    const order: number[] = [];
    try {
      await executor.replay();
      await other.appendBatch([Other({ label: 'from-1' }), Other({ label: 'from-2' })]);
      await executor.execute(Other({ label: 'mine' }));
      assert.deepEqual(executor.state.labels, ['from-1', 'from-2', 'mine']);
      order.push(...(await log.read(0)).map((r) => r.id));
      assert.deepEqual(order, [1, 2, 3]);
      // Concurrent executes each apply once, in id order.
      await Promise.all(Array.from({ length: 20 }, (_, n) => executor.execute(Task({ n: 20 + n }))));
      assert.equal(executor.state.sum, 590);
    } finally {
      await log.close();
      await other.close();
    }
  });

  test('registering an unknown command or one twice is an error', async () => {
    const log = openLog(file('register'));
    try {
      const executor = make(log);
      await assertCode(() => executor.onApply('nope' as never, () => undefined), 'HSU_ERR_COMMAND_UNKNOWN');
      await assertCode(() => executor.onApply('task/run', () => undefined), 'HSU_ERR_HANDLER_EXISTS');
    } finally {
      await log.close();
    }
  });
});
