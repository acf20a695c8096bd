// What the master offers a module, identical everywhere: calls to other workers (ctx.call) and the shared bus (ctx.bus).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import type conformance from '../fixtures/modules/conformance.js';
import { SIBLING, rejectsWithCode, waitFor, type Suite } from './harness.js';

export function servicesCases(s: Suite): void {
  void it('a module calls another worker through the master and gets its answer, errors with their codes', async () => {
    const id = await s.start('caller');
    const client = s.master.client<typeof conformance>(id);
    // The sibling is another worker of this deployment: the call crosses the master either way.
    assert.deepEqual(await client.callOut({ target: SIBLING, action: 'echo', input: { text: 'via master', n: 4 } }), { text: 'via master', doubled: 8 });
    const missing = await rejectsWithCode(client.callOut({ target: 'nobody', action: 'echo' }), 'HSU_ERR_WORKER_NOT_FOUND');
    assert.equal((missing as { status?: number }).status, 404);
    await rejectsWithCode(client.callOut({ target: SIBLING, action: 'boom', input: { code: 'E_PEER', message: 'peer failed' } }), 'E_PEER');
    await s.master.stopWorker(id);
  });

  void it('modules and the master share the bus: a module hears the master and the master hears the module', async () => {
    const id = await s.start('listener');
    const client = s.master.client<typeof conformance>(id);
    assert.equal(await client.listen('demo.news'), true);
    // The subscription crosses to the master asynchronously (thread, process): publish until it is heard.
    for (let tries = 0; ; tries++) {
      s.master.bus.publish('demo.news', { from: 'master' });
      const heard = await client.received();
      if (heard.some((h) => h.topic === 'demo.news' && (h.payload as { from?: string }).from === 'master')) break;
      assert.ok(tries < 500, 'the module never heard the master');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const fromModule = new Promise<unknown>((resolve) => {
      const sub = s.master.bus.subscribe('demo.reply', (payload) => {
        sub.unsubscribe();
        resolve(payload);
      });
    });
    assert.equal(await client.announce({ topic: 'demo.reply', payload: { from: id, n: 7 } }), true);
    assert.deepEqual(await fromModule, { from: id, n: 7 });
    await s.master.stopWorker(id);
    // The stopped instance's subscription went with it.
    await waitFor('the subscription to end', () => (s.master.bus.stats().topics['demo.news']?.subscribers.length ?? 0) === 0 || undefined);
  });
}
