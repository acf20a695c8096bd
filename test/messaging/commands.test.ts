// Command types and the registry: the schema is the type, duplicates are refused, decoding says
// why it failed and never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectTypeOf } from 'expect-type';
import * as z from 'zod';
import { CommandRegistry, defineCommand, type CommandOf } from '../../src/messaging/index.js';
import { assertCode, commands, Task } from './helpers.js';

test('a command type builds commands and carries its schema; the registry refuses a second type of the same name', async () => {
  const command = Task({ n: 3 });
  assert.deepEqual(command, { name: 'task/run', payload: { n: 3 } });
  assert.equal(Task.name, 'task/run');
  expectTypeOf<CommandOf<typeof Task>>().toEqualTypeOf<{ readonly name: 'task/run'; readonly payload: { n: number; note?: string | undefined } }>();
  await assertCode(() => new CommandRegistry([Task, defineCommand('task/run', z.object({}))]), 'HSU_ERR_COMMAND_EXISTS');
  await assertCode(() => defineCommand('', z.object({})), 'HSU_ERR_COMMAND_INVALID');
  assert.deepEqual(commands.names, ['task/run', 'other/thing']);
});

test('decode turns stored records into typed commands or a MESSAGE_UNDECODABLE error, never a throw', () => {
  const ok = commands.decode({ id: 1, name: 'task/run', data: '{"n":1}', appended_at: 0 });
  assert.deepEqual(ok, { ok: true, command: { name: 'task/run', payload: { n: 1 } } });
  for (const [record, reason] of [
    [{ id: 2, name: 'task/run', data: '{"n":"one"}', appended_at: 0 }, /does not match the schema/],
    [{ id: 3, name: 'task/run', data: '{oops', appended_at: 0 }, /not valid JSON/],
    [{ id: 4, name: 'gone/away', data: '{}', appended_at: 0 }, /no command type named 'gone\/away'/],
  ] as const) {
    const result = commands.decode(record);
    assert.equal(result.ok, false);
    if (result.ok) continue;
    assert.equal(result.error.code, 'HSU_ERR_MESSAGE_UNDECODABLE');
    assert.equal(result.error.context.message_id, record.id);
    assert.match(result.error.message, reason);
  }
});

test('schemas with defaults: append stores the input, the handler sees the output', () => {
  const WithDefault = defineCommand('with/default', z.object({ retries: z.number().default(3) }));
  const registry = CommandRegistry.of(WithDefault);
  const data = registry.encode(WithDefault({}));
  assert.equal(data, '{}');
  const decoded = registry.decode({ id: 1, name: 'with/default', data, appended_at: 0 });
  assert.deepEqual(decoded.ok ? decoded.command.payload : undefined, { retries: 3 });
});
