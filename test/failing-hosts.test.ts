// A thread or hosted module that fails and then hangs in stop() must not stay "running": the
// master forces it down after stop_timeout and applies the restart policy, as for any crash.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diagnostics, waitForState, withMaster } from './helpers/master-helpers.js';
import { moduleFixture } from './helpers/paths.js';
import type { WorkerConfigInput } from '../src/index.js';

const deployments: Record<string, (id: string) => WorkerConfigInput> = {
  thread: (id) => ({ id, type: 'module', stop_timeout: '300ms', restart: { policy: 'never' }, module: { module_type: 'plugin', module_path: moduleFixture('fatal-hang.js'), isolation: 'thread' } }),
  process: (id) => ({ id, type: 'process', stop_timeout: '300ms', restart: { policy: 'never' }, module: { module_type: 'plugin', module_path: moduleFixture('fatal-hang.js') } }),
};

describe('a failing module whose stop() hangs', () => {
  for (const [deployment, config] of Object.entries(deployments)) {
    it(`${deployment}: ends in failed with the uncaught error, within its stop timeout`, async () => {
      await withMaster(async ({ master }) => {
        master.addWorker(config('fh'));
        await master.startWorker('fh');
        await waitForState(master, 'fh', 'failed');
        const d = diagnostics(master, 'fh');
        assert.equal(d.last_error?.code, 'HSU_ERR_MODULE_UNCAUGHT');
        assert.equal(d.pid, null);
      });
    });
  }
});
