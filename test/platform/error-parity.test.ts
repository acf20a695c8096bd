// Error parity: the same module file deployed inline, in a worker thread and in a child process
// gives its callers the same errors. Catalogue errors come back as HsuError instances with their
// code, status and context; a module's own error keeps its code, message, status and (bounded)
// cause chain; a failing start rejects startWorker with the original code and status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HsuError, type WorkerConfigInput } from '../../src/index.js';
import { createTestMaster, diagnostics } from '../helpers/master-helpers.js';
import { compiledFixture } from './support.js';

const T = { timeout: 30_000 };
const DEPLOYMENTS = ['inline', 'thread', 'process'] as const;
type Deployment = (typeof DEPLOYMENTS)[number];

function parityWorker(deployment: Deployment, id: string, config: Record<string, unknown> = {}): WorkerConfigInput {
  const module = { module_type: 'plugin' as const, module_path: compiledFixture('parity.js'), config };
  const restart = { policy: 'never' } as const;
  if (deployment === 'process') return { id, type: 'process', module, restart };
  return { id, type: 'module', module: { ...module, isolation: deployment }, restart };
}

type Caught = Error & { code?: unknown; status?: unknown; context?: Record<string, unknown> };

async function caught(promise: Promise<unknown>): Promise<Caught> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => {
      assert.ok(error instanceof Error, `not an Error: ${String(error)}`);
      return error as Caught;
    },
  );
}

/** code and message of each link of the cause chain, at most `limit` links (a cycle cannot hang the test). */
function causeChain(error: unknown, limit = 16): { code: unknown; message: string }[] {
  const out: { code: unknown; message: string }[] = [];
  for (let link = (error as Error).cause; link !== undefined && out.length < limit; link = (link as Error).cause) {
    out.push({ code: (link as { code?: unknown }).code, message: (link as Error).message });
  }
  return out;
}

void describe('error parity across inline, thread and process deployments', () => {
  const t = createTestMaster();
  const id = (d: Deployment): string => `parity-${d}`;
  before(async () => {
    for (const d of DEPLOYMENTS) t.master.addWorker(parityWorker(d, id(d)));
    for (const d of DEPLOYMENTS) await t.master.startWorker(id(d));
  });
  after(() => t.dispose());

  it('an unknown action: HsuError, HSU_ERR_ACTION_NOT_FOUND, status 404, context.available', T, async () => {
    for (const d of DEPLOYMENTS) {
      const error = await caught(t.master.call(id(d), 'nope'));
      assert.ok(error instanceof HsuError, `${d}: not an HsuError instance (${error.constructor.name})`);
      assert.equal(error.code, 'HSU_ERR_ACTION_NOT_FOUND', d);
      assert.equal(error.status, 404, d);
      assert.deepEqual(error.context?.available, ['ok', 'custom', 'catalogue'], d);
    }
  });

  it("a module's own error keeps its code, message, status and cause chain, bounded across a boundary", T, async () => {
    const seen: Record<string, unknown> = {};
    for (const d of DEPLOYMENTS) {
      const error = await caught(t.master.call(id(d), 'custom'));
      assert.equal(error.code, 'E_CUSTOM', d);
      assert.equal(error.message, 'custom failure', d);
      assert.equal(error.status, 422, d);
      const chain = causeChain(error);
      assert.ok(chain.length >= 3 && chain.length <= 8, `${d}: a cause chain of ${chain.length} links`);
      seen[d] = chain.slice(0, 3);
    }
    const expected = [1, 2, 3].map((level) => ({ code: `E_CAUSE_${level}`, message: `cause ${level}` }));
    assert.deepEqual(seen, { inline: expected, thread: expected, process: expected });
  });

  it('an HsuError thrown by an action comes back as one, with its code, status and context', T, async () => {
    for (const d of DEPLOYMENTS) {
      const error = await caught(t.master.call(id(d), 'catalogue'));
      assert.ok(error instanceof HsuError, `${d}: not an HsuError instance`);
      assert.equal(error.code, 'HSU_ERR_CALL_PAYLOAD', d);
      assert.equal(error.status, 400, d);
      assert.deepEqual(error.context, { field: 'qty' }, d);
      assert.equal(error.message, 'the input is not a valid order', d);
    }
  });

  /** Adds a worker whose initialize() throws (`hsu` or `plain`) in deployment `d`; returns how its start failed. */
  async function failedStart(d: Deployment, initFail: 'hsu' | 'plain'): Promise<{ worker: string; error: Caught }> {
    const worker = `init-${initFail}-${d}`;
    t.master.addWorker(parityWorker(d, worker, { init_fail: initFail }));
    const error = await caught(t.master.startWorker(worker));
    assert.ok(error instanceof HsuError, `${d}: not an HsuError instance`);
    assert.equal(t.master.getWorkerState(worker), 'failed_start', d);
    return { worker, error };
  }

  it('initialize() throwing an HsuError: startWorker rejects with that code and status, and last_error says so', T, async () => {
    for (const d of DEPLOYMENTS) {
      const { worker, error } = await failedStart(d, 'hsu');
      assert.equal(error.code, 'HSU_ERR_CONFIG_INVALID', d);
      assert.equal(error.status, 400, d);
      assert.deepEqual(error.context, { key: 'port' }, d);
      assert.equal(diagnostics(t.master, worker).last_error?.code, 'HSU_ERR_CONFIG_INVALID', d);
    }
  });

  it('initialize() throwing a plain Error: HSU_ERR_MODULE_INIT_FAILED, status 500, the original as its cause', T, async () => {
    for (const d of DEPLOYMENTS) {
      const { error } = await failedStart(d, 'plain');
      assert.equal(error.code, 'HSU_ERR_MODULE_INIT_FAILED', d);
      assert.equal(error.status, 500, d);
      assert.deepEqual(causeChain(error).slice(0, 1), [{ code: 'E_INIT', message: 'cannot open the database' }], d);
    }
  });
});
