// Type test for the typed client: compiled by tsc inside `npm test`, never run. A wrong inference
// fails the build; every `@ts-expect-error` fails it too if the error it expects disappears.
import { expectTypeOf } from 'expect-type';
import type { Master } from '../src/master/master.js';
import type { CallOptions, Client } from '../src/worker/index.js';
import type conformance from './fixtures/modules/conformance.js';

type Conformance = typeof conformance;

export async function clientTypes(master: Master): Promise<void> {
  const client = master.client<Conformance>('conformance');
  expectTypeOf(client).toEqualTypeOf<Client<Conformance>>();

  // Input and output of each action are inferred from the module file.
  expectTypeOf(client.echo).parameter(0).toEqualTypeOf<{ text: string; n: number }>();
  expectTypeOf(client.echo).parameter(1).toEqualTypeOf<CallOptions | undefined>();
  expectTypeOf(client.echo).returns.toEqualTypeOf<Promise<{ text: string; doubled: number }>>();
  // A synchronous action still answers with a promise across the call API.
  expectTypeOf(client.setHealthy).parameter(0).toEqualTypeOf<boolean>();
  expectTypeOf(client.setHealthy).returns.toEqualTypeOf<Promise<boolean>>();
  expectTypeOf(client.slow).parameter(0).toEqualTypeOf<{ ms: number }>();
  expectTypeOf(client.slow).returns.toEqualTypeOf<Promise<string>>();
  expectTypeOf(client.abortedCalls).returns.toEqualTypeOf<Promise<string[]>>();
  expectTypeOf(client.boom).returns.toEqualTypeOf<Promise<never>>();
  expectTypeOf(client.whoami).returns.resolves.toHaveProperty('token').toEqualTypeOf<string>();

  // An action declared without an input is called without an argument.
  expectTypeOf(client.whoami).toBeCallableWith();

  const echoed = await client.echo({ text: 'a', n: 1 }, { timeout: 100, signal: AbortSignal.timeout(1000) });
  expectTypeOf(echoed.doubled).toBeNumber();

  // @ts-expect-error: wrong input type (n must be a number)
  void client.echo({ text: 'a', n: '1' });
  // @ts-expect-error: missing input field
  void client.echo({ text: 'a' });
  // @ts-expect-error: unknown action
  void client.nope(1);
  // @ts-expect-error: the output is not a string
  const wrong: string = await client.echo({ text: 'a', n: 1 });
  void wrong;

  // The untyped call API stays honest: the result is unknown until checked.
  expectTypeOf(master.call('conformance', 'echo', { text: 'a', n: 1 })).toEqualTypeOf<Promise<unknown>>();
}
