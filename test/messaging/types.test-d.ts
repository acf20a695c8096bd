// Type test of the messaging API: compiled by tsc inside `npm test`, never run. The schema is the
// type: appends take the schema's input, handlers and apply functions see its output, and a name
// outside the registry does not compile.
import { expectTypeOf } from 'expect-type';
import * as z from 'zod';
import { CommandRegistry, CommandWorker, defineCommand, Executor, SqliteMessageLog } from '../../src/messaging/index.js';
import type { Message } from '../../src/messaging/index.js';

const Placed = defineCommand('order/placed', z.object({ order_id: z.string(), qty: z.number().default(1) }));
const Cancelled = defineCommand('order/cancelled', z.object({ order_id: z.string(), reason: z.string() }));
const commands = CommandRegistry.of(Placed, Cancelled);

export async function messagingTypes(): Promise<void> {
  const log = SqliteMessageLog.open('orders.db', { commands });
  // The input may omit a defaulted field; the handler sees it filled in.
  await log.append(Placed({ order_id: 'o-1' }));
  await log.append({ name: 'order/cancelled', payload: { order_id: 'o-1', reason: 'changed mind' } });
  // @ts-expect-error a payload of the wrong shape
  await log.append({ name: 'order/cancelled', payload: { order_id: 'o-1' } });
  // @ts-expect-error a name the registry does not have
  await log.append({ name: 'order/shipped', payload: {} });

  const worker = new CommandWorker({ name: 'orders', state: { open: new Set<string>() }, log });
  worker.onCommand('order/placed', (command, message, ctx) => {
    expectTypeOf(command.payload).toEqualTypeOf<{ order_id: string; qty: number }>();
    expectTypeOf(command.name).toEqualTypeOf<'order/placed'>();
    expectTypeOf(message).toEqualTypeOf<Message>();
    expectTypeOf(ctx.state.open).toEqualTypeOf<Set<string>>();
    expectTypeOf(ctx.delivery).toEqualTypeOf<number>();
  });
  worker.onCommand('order/cancelled', async (command) => {
    expectTypeOf(command.payload.reason).toEqualTypeOf<string>();
  });
  // @ts-expect-error a handler for a command the registry does not have
  worker.onCommand('order/shipped', () => undefined);

  const executor = new Executor({ log, state: { total: 0 } });
  executor.onApply('order/placed', (state, command) => {
    state.total += command.payload.qty;
  });
  expectTypeOf(await executor.execute(Placed({ order_id: 'o-2', qty: 3 }))).toEqualTypeOf<{ id: number }>();
}
