// A command worker deployed through the Master like any module: inline, in a thread and in its
// own process, with its diagnostics and its dead-letter actions reached through master.call.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Master } from '../../src/index.js';
import type { WorkerConfigInput } from '../../src/index.js';
import { openLog, Task, useScratch, waitFor } from './helpers.js';

const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'command-worker-plugin.js');
const scratch = useScratch('master');

const deployments: Record<string, (config: Record<string, unknown>) => WorkerConfigInput> = {
  inline: (config) => ({ id: 'tally-inline', type: 'module', module: { module_type: 'plugin', module_path: PLUGIN, config } }),
  thread: (config) => ({ id: 'tally-thread', type: 'module', module: { module_type: 'plugin', module_path: PLUGIN, isolation: 'thread', config } }),
  process: (config) => ({ id: 'tally-process', type: 'process', module: { module_type: 'plugin', module_path: PLUGIN, config } }),
};

for (const [deployment, worker] of Object.entries(deployments)) {
  test(`a command worker deployed ${deployment} through the Master handles, reports and re-drives`, async () => {
    const db = path.join(scratch.dir, `${deployment}.db`);
    const log = openLog(db);
    const master = new Master({ logDir: path.join(scratch.dir, `logs-${deployment}`) });
    const config = worker({ db, consumer: `tally-${deployment}` });
    const id = (config as { id: string }).id;
    master.addWorker(config);
    try {
      await log.appendBatch([Task({ n: 1 }), Task({ n: 2, note: 'fail' }), Task({ n: 3 })]);
      await master.startWorker(id);
      const diagnostics = (): Promise<Record<string, unknown>> => master.call(id, 'diagnostics') as Promise<Record<string, unknown>>;
      const caughtUp = await waitFor('checkpoint at head', async () => {
        const d = await diagnostics();
        return d.checkpoint === 3 ? d : undefined;
      });
      assert.equal(caughtUp.processed, 2);
      assert.equal(caughtUp.dead_lettered, 1);
      assert.equal(caughtUp.lag, 0);
      const letters = (await master.call(id, 'dead_letters')) as { message_id: number; error_message: string }[];
      assert.deepEqual(letters.map((l) => [l.message_id, l.error_message]), [[2, 'told to fail']]);
      assert.deepEqual(await master.call(id, 'redrive', { message_ids: [2] }), { redriven: 1 });
      await waitFor('re-driven', async () => ((await diagnostics()).redriven === 1 ? true : undefined));
      await log.append(Task({ n: 4 }));
      await waitFor('message 4', async () => ((await diagnostics()).checkpoint === 4 ? true : undefined));
      assert.equal(master.getWorkerState(id), 'running');
      await master.stopWorker(id);
      const position = log.db.prepare('SELECT last_id FROM hsu_consumers WHERE consumer = ?').get(`tally-${deployment}`) as { last_id: number };
      assert.equal(position.last_id, 4, 'the checkpoint was persisted on stop');
    } finally {
      await master.shutdown();
      await log.close();
    }
  });
}
