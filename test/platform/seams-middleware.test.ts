// The call middleware seam: master.use() wraps every call (first added runs outermost). A
// middleware sees target, action and input in order, may answer without calling the worker, may
// transform the result; one that throws or rejects fails that call only. Without any, calls work.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CallMiddleware } from '../../src/index.js';
import { rejectsWithCode, withMaster } from '../helpers/master-helpers.js';
import { platformFixture } from './support.js';

const T = { timeout: 30_000 };
const counter = { id: 'c', type: 'module', module: { module_type: 'plugin', module_path: platformFixture('counter.mjs') } } as const;

void describe('call middleware', () => {
  it('with none, calls go straight to the worker', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(counter);
      await master.startWorker('c');
      assert.equal(await master.call('c', 'add', { a: 2, b: 3 }), 5);
      await rejectsWithCode(master.call('c', 'nope'), 'HSU_ERR_ACTION_NOT_FOUND');
      await rejectsWithCode(master.call('ghost', 'add'), 'HSU_ERR_WORKER_NOT_FOUND');
    }),
  );

  it('sees every call in order, runs first-added outermost, can short-circuit and transform results', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(counter);
      await master.startWorker('c');
      const seen: string[] = [];
      const outer: CallMiddleware = async (request, next) => {
        seen.push(`outer> ${request.target}.${request.action} ${JSON.stringify(request.input)}`);
        const result = await next(request);
        seen.push(`outer< ${JSON.stringify(result)}`);
        return result;
      };
      const inner: CallMiddleware = async (request, next) => {
        seen.push(`inner> ${request.action}`);
        if (request.action === 'cached') return 'from the cache'; // never reaches the worker
        const result = await next(request.action === 'upper' ? { ...request, input: `${String(request.input)}!` } : request);
        return request.action === 'add' ? { sum: result } : result;
      };
      master.use(outer);
      master.use(inner);

      assert.deepEqual(await master.call('c', 'add', { a: 1, b: 2 }), { sum: 3 });
      assert.equal(await master.call('c', 'cached', 'anything'), 'from the cache');
      assert.equal(await master.client<{ actions: { upper: (text: string) => string } }>('c').upper('hi'), 'HI!');
      assert.deepEqual(seen, [
        'outer> c.add {"a":1,"b":2}',
        'inner> add',
        'outer< {"sum":3}',
        'outer> c.cached "anything"',
        'inner> cached',
        'outer< "from the cache"',
        'outer> c.upper "hi"',
        'inner> upper',
        'outer< "HI!"',
      ]);
      assert.deepEqual(await master.call('c', 'invocations'), ['add', 'upper'], 'the short-circuited call never reached the module');
    }),
  );

  it('a middleware that throws or rejects fails that call only; other calls and middlewares carry on', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(counter);
      await master.startWorker('c');
      const seenByLast: string[] = [];
      master.use((request, next) => {
        if (request.action === 'upper') throw Object.assign(new Error('refused synchronously'), { code: 'E_SYNC' });
        return next(request);
      });
      master.use(async (request, next) => {
        if (request.input === 'reject me') throw Object.assign(new Error('refused asynchronously'), { code: 'E_ASYNC' });
        return next(request);
      });
      master.use((request, next) => {
        seenByLast.push(request.action);
        return next(request);
      });

      await rejectsWithCode(master.call('c', 'upper', 'x'), 'E_SYNC');
      await rejectsWithCode(master.call('c', 'add', 'reject me'), 'E_ASYNC');
      assert.equal(await master.call('c', 'add', { a: 4, b: 5 }), 9);
      await rejectsWithCode(master.call('c', 'upper', 'again'), 'E_SYNC');
      assert.equal(await master.call('c', 'add', { a: 1, b: 1 }), 2);
      assert.deepEqual(seenByLast, ['add', 'add'], 'calls refused upstream never reached the inner middleware');
      assert.deepEqual(await master.call('c', 'invocations'), ['add', 'add']);
    }),
  );
});
