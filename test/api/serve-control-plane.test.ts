// serveControlPlane: a master a program runs itself (Master.fromConfigFile) serves the control
// plane of its file's master.api block, and the real `hsu` binary talks to it as to `hsu run`:
// ls, reload of an edited file, shutdown through the API. A master built in code is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Master, serveControlPlane } from '../../src/index.js';
import { hsu } from '../cli-client/helpers.js';
import { rejectsWithCode, tempDir, waitForGone } from '../helpers/master-helpers.js';

const T = { timeout: 60_000 };
const sleeper = (id: string): string => `  - id: ${id}\n    type: process\n    execution: { executable_path: ${process.execPath}, args: [-e, "setInterval(() => {}, 1000)"] }\n`;

void describe('serveControlPlane', () => {
  it('serves the file’s control API to the hsu binary: ls, reload of the edited file, shutdown through the API', T, async () => {
    const scratch = tempDir('serve-cp-');
    const file = path.join(scratch.dir, 'hsu.yaml');
    writeFileSync(file, `master:\n  state_dir: state\n  log_dir: logs\nworkers:\n${sleeper('a')}`);
    const master = await Master.fromConfigFile(file);
    let control: Awaited<ReturnType<typeof serveControlPlane>> | undefined;
    try {
      await master.start();
      control = await serveControlPlane(master);
      const socket = path.join(scratch.dir, 'state', 'hsu.sock');
      assert.ok(existsSync(socket), 'the API listens on the state directory’s socket');
      assert.ok(existsSync(path.join(scratch.dir, 'state', 'master.pid')), 'the pid file is written');

      const ls = await hsu(['ls'], { cwd: scratch.dir });
      assert.equal(ls.code, 0, ls.err);
      assert.match(ls.out, /^a\s+process\s+\S+\s+running/m);

      writeFileSync(file, `master:\n  state_dir: state\n  log_dir: logs\nworkers:\n${sleeper('a')}${sleeper('b')}`);
      const reload = await hsu(['reload'], { cwd: scratch.dir });
      assert.equal(reload.code, 0, reload.err + reload.out);
      assert.match(reload.out, /added b/);
      assert.deepEqual(master.listWorkers().sort(), ['a', 'b']);

      const pids = master.listWorkers().map((id) => master.getWorkerStateWithDiagnostics(id).pid).filter((pid): pid is number => typeof pid === 'number');
      const shutdown = await hsu(['shutdown'], { cwd: scratch.dir });
      assert.equal(shutdown.code, 0, shutdown.err + shutdown.out);
      assert.match(shutdown.out, /master stopped; its program \(pid \d+\) goes on running/);
      assert.ok(master.closing, 'the API’s shutdown shut the master down');
      assert.deepEqual(await waitForGone(pids), [], 'no worker process is left');
      await control.close(); // idempotent: the default shutdown closed it already
      assert.ok(!existsSync(socket), 'the socket is removed');
      assert.ok(!existsSync(path.join(scratch.dir, 'state', 'master.pid')), 'the pid file is removed');
    } finally {
      await master.shutdown();
      await control?.close();
      scratch.remove();
    }
  });

  it('a master built in code has no master.api block to serve: HSU_ERR_API_NO_CONFIG, and nothing is opened', T, async () => {
    const scratch = tempDir('serve-cp-none-');
    const master = new Master({ logDir: scratch.dir, stateDir: scratch.dir });
    try {
      await rejectsWithCode(serveControlPlane(master), 'HSU_ERR_API_NO_CONFIG');
      assert.ok(!existsSync(path.join(scratch.dir, 'hsu.sock')));
    } finally {
      await master.shutdown();
      scratch.remove();
    }
  });
});
