// The cluster as a user gets it: two masters configured only by `master.cluster` in their YAML
// (one a real `hsu run`, one a library Master from the same kind of file) on a real nats-server.
// A call on one master reaches a worker that only the other runs, errors keep their message, a
// second master cannot take a live node name, a clean stop of one removes its services from the
// other, and nothing of NATS stays open after shutdown.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Master } from '../../src/index.js';
import { HsuRun } from '../helpers/hsu-run.js';
import { rejectsWithCode } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { natsForFile, until, writeClusterYaml } from './helpers.js';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { repoRoot } from '../helpers/paths.js';

const execFileP = promisify(execFile);
const BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const file = natsForFile('cluster-run');

function writeConfig(name: string, node: string, workers: string[]): string {
  return writeClusterYaml({ dir: path.join(file.dir, name), cluster: 'run-test', node, servers: file.server().url, workers });
}

const echoWorker = ['  - id: echo', '    type: module', `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('../cluster/fixtures/echo-service.mjs'))} }`];
const localWorker = ['  - id: local', '    type: module', `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('plugins/ok.mjs'))} }`];

void describe('masters joined by master.cluster in their config', { skip: file.skip, timeout: 120_000 }, () => {
  it('a call on one master reaches the worker only the other runs; a taken node name is refused; a clean stop leaves the others', async () => {
    const b = new HsuRun(writeConfig('b', 'node-b', echoWorker), path.join(file.dir, 'b'));
    let a: Master | undefined;
    try {
      await b.waitFor('b running', (l) => l.msg === 'master running');
      a = await Master.fromConfigFile(writeConfig('a', 'node-a', localWorker));
      await a.start();
      // Registered on b, seen on a within a heartbeat or two.
      const answer = await until('echo reachable from a', async () => a!.call('echo', 'echo', { from: 'a', n: 1 }).catch(() => undefined));
      assert.deepEqual(answer, { from: 'a', n: 1 });
      assert.deepEqual(await a.call('echo', 'who', {}), { node: undefined, worker: 'echo', n: undefined }, 'served by b’s worker');
      await assert.rejects(a.call('echo', 'fail'), /told to fail/);

      // The operator's view from b's daemon: both masters, each with what it serves.
      const ls = await execFileP(process.execPath, [BIN, 'cluster', 'ls', '--json', '--state-dir', path.join(file.dir, 'b', '.hsu')]);
      const view = JSON.parse(ls.stdout) as { node: string; nodes: { node: string; self: boolean; instances: { id: string; service: string }[] }[] };
      assert.equal(view.node, 'node-b');
      assert.deepEqual(view.nodes.map((n) => [n.node, n.self, n.instances.map((i) => i.service).sort()]).sort(), [['node-a', false, ['local']], ['node-b', true, ['echo']]]);
      const table = await execFileP(process.execPath, [BIN, 'cluster', 'ls', '--state-dir', path.join(file.dir, 'b', '.hsu')]);
      assert.match(table.stdout, /^cluster run-test: this master is node-b, NATS connected/);
      assert.equal(a.clusterView()?.nodes.length, 2);

      // A live node name cannot be taken by a second master.
      await rejectsWithCode(Master.fromConfigFile(writeConfig('a2', 'node-a', localWorker)), 'HSU_ERR_CLUSTER_NODE_NAME_TAKEN');

      // b stops cleanly: it leaves the cluster, its service is gone from a (no worker or service of that name).
      b.signal('SIGTERM');
      assert.equal(await b.exitCode(), 0);
      let lastSeen: unknown;
      await until('echo gone from a', async () => ((lastSeen = await a!.call('echo', 'echo', 1).catch((e: { code?: string }) => e.code)) === 'HSU_ERR_WORKER_NOT_FOUND' ? true : undefined)).catch((e: Error) => assert.fail(`${e.message}; last: ${String(lastSeen)}`));
      assert.equal(await a.call('local', 'instance'), 1, 'a’s own worker is untouched');

      await a.shutdown();
      a = undefined;
      const left = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout' && r !== 'Immediate');
      assert.deepEqual(left.filter((r) => r === 'TCPSocketWrap' || r === 'TCPWRAP'), [], `no NATS connection stays open: ${left.join(', ')}`);
    } finally {
      await a?.shutdown();
      b.kill();
      await b.exited;
    }
  });
});
