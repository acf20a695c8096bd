// The one call API: results, typed client, errors, timeouts, aborts, unknown actions, payload rules.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type conformance from '../fixtures/modules/conformance.js';
import { rejectsWithCode, type Deployment, type Suite } from './harness.js';

/** A class instance: its prototype survives only where nothing is cloned. */
class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

export function callCases(s: Suite): void {
  const id = 'calls';
  const client = (): ReturnType<typeof s.master.client<typeof conformance>> => s.master.client<typeof conformance>(id);
  before(async () => {
    await s.start(id, { config: { label: 'calls', nested: { list: [1, 2, 3] } } });
  });
  after(async () => {
    if (s.master.getWorkerState(id) === 'running') await s.master.stopWorker(id);
  });

  void it('an action answers through master.call() and the typed client alike', async () => {
    assert.deepEqual(await s.master.call(id, 'echo', { text: 'hi', n: 21 }), { text: 'hi', doubled: 42 });
    const echoed = await client().echo({ text: 'typed', n: 2 });
    assert.equal(echoed.doubled, 4);
    const who = await client().whoami();
    assert.equal(who.workerId, id);
    assert.deepEqual(who.config, { label: 'calls', nested: { list: [1, 2, 3] } });
    // Many calls in flight come back to the right callers.
    const many = await Promise.all(Array.from({ length: 50 }, (_, n) => client().echo({ text: `#${n}`, n })));
    assert.deepEqual(many, Array.from({ length: 50 }, (_, n) => ({ text: `#${n}`, doubled: 2 * n })));
  });

  void it("an action's error reaches the caller with its code, message and a stack in the module file", async () => {
    const error = await rejectsWithCode(client().boom({ code: 'E_CONFORMANCE', message: 'broken on purpose' }), 'E_CONFORMANCE');
    assert.ok(error instanceof Error);
    assert.equal(error.message, 'broken on purpose');
    assert.match(error.stack ?? '', /fixtures\/modules\/conformance\.js/);
  });

  void it('a call past its timeout rejects with CALL_TIMEOUT and the module sees call.signal abort', async () => {
    const before = (await client().abortedCalls(undefined)).length;
    await rejectsWithCode(client().slow({ ms: 60_000 }, { timeout: 100 }), 'HSU_ERR_CALL_TIMEOUT');
    const reasons = await pollAborted(s, id, before + 1);
    assert.equal(reasons.at(-1), 'HSU_ERR_CALL_TIMEOUT', 'the module sees why its call was abandoned');
  });

  void it('an aborted call rejects with CALL_ABORTED and the module sees call.signal abort', async () => {
    const before = (await client().abortedCalls(undefined)).length;
    const controller = new AbortController();
    const pending = client().slow({ ms: 60_000 }, { signal: controller.signal });
    controller.abort();
    await rejectsWithCode(pending, 'HSU_ERR_CALL_ABORTED');
    const reasons = await pollAborted(s, id, before + 1);
    assert.equal(reasons.at(-1), 'HSU_ERR_CALL_ABORTED');
    // An already aborted signal rejects the same way.
    await rejectsWithCode(client().echo({ text: 'late', n: 1 }, { signal: AbortSignal.abort() }), 'HSU_ERR_CALL_ABORTED');
    // The worker is unharmed by either.
    assert.deepEqual(await client().echo({ text: 'ok', n: 1 }), { text: 'ok', doubled: 2 });
  });

  void it('an unknown action rejects with ACTION_NOT_FOUND, naming the actions there are', async () => {
    const error = await rejectsWithCode(s.master.call(id, 'nope', 1), 'HSU_ERR_ACTION_NOT_FOUND');
    assert.ok((error.context?.available as string[]).includes('echo'));
    await rejectsWithCode(s.master.call('no-such-worker', 'echo', 1), 'HSU_ERR_WORKER_NOT_FOUND');
  });

  void it(`payload rules: ${PAYLOAD_RULE[s.deployment]}`, async () => {
    await checkPayloads[s.deployment](s, id);
    assert.deepEqual(await client().echo({ text: 'after payloads', n: 1 }), { text: 'after payloads', doubled: 2 });
  });

  void it('after all of the above, the worker still stops gracefully', async () => {
    await s.master.stopWorker(id);
    const d = s.diagnostics(id);
    assert.equal(d.state, 'stopped');
    assert.deepEqual({ forced: d.last_exit?.forced, error: d.last_exit?.error, last_error: d.last_error }, { forced: false, error: null, last_error: null });
  });
}

async function pollAborted(s: Suite, id: string, count: number): Promise<string[]> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const reasons = (await s.master.call(id, 'abortedCalls', undefined)) as string[];
    if (reasons.length >= count) return reasons;
  }
  throw new Error(`the module did not see ${count} aborted call(s) within 15 s`);
}

const PAYLOAD_RULE: Record<Deployment, string> = {
  inline: 'inline passes input and result by reference (nothing is copied, nothing is refused)',
  thread: 'structured clone: Map, Date, typed arrays cross; functions are refused with CALL_PAYLOAD; prototypes are lost',
  process: 'structured clone over IPC: Map, Date, typed arrays cross; functions are refused with CALL_PAYLOAD; prototypes are lost',
};

const remotePayloads = async (s: Suite, id: string): Promise<void> => {
  await rejectsWithCode(s.master.call(id, 'identity', () => 1), 'HSU_ERR_CALL_PAYLOAD');
  await rejectsWithCode(s.master.call(id, 'giveFunction', undefined), 'HSU_ERR_CALL_PAYLOAD');
  const rich = { map: new Map([[1, 'one']]), date: new Date(0), bytes: new Uint8Array([1, 2, 3]), big: 10n };
  const back = (await s.master.call(id, 'identity', rich)) as typeof rich;
  assert.notEqual(back, rich);
  assert.ok(back.map instanceof Map && back.date instanceof Date && back.bytes instanceof Uint8Array);
  assert.deepEqual(back, rich);
  const point = (await s.master.call(id, 'identity', new Point(1, 2))) as Point;
  assert.equal(point instanceof Point, false);
  assert.deepEqual({ ...point }, { x: 1, y: 2 });
};

const checkPayloads: Record<Deployment, (s: Suite, id: string) => Promise<void>> = {
  inline: async (s, id) => {
    const fn = (): number => 1;
    assert.equal(await s.master.call(id, 'identity', fn), fn);
    const point = new Point(1, 2);
    assert.equal(await s.master.call(id, 'identity', point), point);
    assert.equal(typeof (await s.master.call(id, 'giveFunction', undefined)), 'function');
  },
  thread: remotePayloads,
  process: remotePayloads,
};
