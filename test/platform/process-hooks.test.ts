// Process-wide state is given back: the last-resort hook (signal-exit) and the inline-module error
// attribution a master installs are tied to its lifetime. After shutdown() the listener counts for
// exit, signals and uncaught errors are what they were before the master existed, whatever the
// number of masters and the order in which they shut down.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Master } from '../../src/index.js';
import { pluginWorker, tempDir, throwsWithCode } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';

const T = { timeout: 30_000 };
const scratch = tempDir('process-hooks');
after(() => scratch.remove());
const EVENTS = ['exit', 'SIGTERM', 'SIGINT', 'SIGHUP', 'uncaughtException', 'unhandledRejection'] as const;
let masters = 0;

function listenerCounts(): Record<string, number> {
  return Object.fromEntries(EVENTS.map((name) => [name, process.listenerCount(name)]));
}

/** A logger of the application's own: writes to memory, so it installs no exit hook of its own. */
function appLogger(): pino.Logger {
  return pino({ level: 'info' }, new Writable({ write: (_chunk, _encoding, callback) => callback() }));
}

/**
 * A master with an inline module (which installs the attribution hooks) and a process worker, both
 * started. With `defaultLogger`, the master makes its own (silent) logger, as a library user's does.
 */
async function busyMaster(options: { stateDir?: string; defaultLogger?: boolean } = {}): Promise<Master> {
  const n = ++masters;
  const { defaultLogger, ...rest } = options;
  const master = new Master({ logDir: path.join(scratch.dir, `logs-${n}`), baseDir: scratch.dir, shutdownTimeoutMs: 10_000, ...(defaultLogger === true ? {} : { logger: appLogger() }), ...rest });
  master.addWorker(pluginWorker('inline', 'ok.mjs'));
  master.addWorker({ id: 'proc', type: 'process', execution: { executable_path: process.execPath, args: [fixture('forever.mjs')] } });
  await master.start();
  return master;
}

void describe('listeners a master installs on the process', () => {
  it('are there while it lives (attribution, last resort) and gone after shutdown()', T, async () => {
    const before = listenerCounts();
    const master = await busyMaster();
    const during = listenerCounts();
    assert.ok((during.uncaughtException ?? 0) > (before.uncaughtException ?? 0), 'the premise: inline attribution listens for uncaught errors');
    assert.ok((during.SIGTERM ?? 0) > (before.SIGTERM ?? 0), 'the premise: the last-resort hook is installed');
    await master.shutdown();
    assert.deepEqual(listenerCounts(), before);
  });

  it('a master left to make its own silent logger gives everything back too', T, async () => {
    const before = listenerCounts();
    const master = await busyMaster({ defaultLogger: true });
    await master.shutdown();
    assert.deepEqual(listenerCounts(), before);
  });

  for (const order of ['first-created first', 'last-created first'] as const) {
    it(`two masters alive at once, shut down ${order}: all given back`, T, async () => {
      const before = listenerCounts();
      const created = [await busyMaster(), await busyMaster()];
      const [first, second] = order === 'first-created first' ? created : [...created].reverse();
      await first?.shutdown();
      assert.ok((listenerCounts().uncaughtException ?? 0) > (before.uncaughtException ?? 0), 'the other master still needs its hooks while it runs');
      await second?.shutdown();
      assert.deepEqual(listenerCounts(), before);
    });
  }

  it('a master that could not be created (state directory in use) leaves nothing behind', T, async () => {
    const stateDir = path.join(scratch.dir, 'state');
    const owner = await busyMaster({ stateDir });
    const before = listenerCounts();
    throwsWithCode(() => new Master({ stateDir, logDir: path.join(scratch.dir, 'logs-x') }), 'HSU_ERR_STATE_DIR_IN_USE');
    assert.deepEqual(listenerCounts(), before);
    await owner.shutdown();
  });
});
