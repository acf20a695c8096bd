// Bad input to replicas and services: a config file with `instances: 0`, `instances: 10000`, an
// unknown balancer, autoscale bounds that contradict each other or `instances` is refused as a
// whole with one located issue per problem (path and line) and starts nothing; the same blocks
// given to a running master are refused without disturbing what runs; a call to a service with
// no healthy replica, or to a name nothing serves, fails with its code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Master } from '../../src/index.js';
import { tempDir } from '../helpers/master-helpers.js';
import { activeResources, codeOf, liveChildren, pathsIn, withConfig, writeConfig, type Served } from './helpers.js';
import { replicaWorker } from './yaml.js';

const T = { timeout: 60_000 };

interface Issue {
  readonly path: string;
  readonly line?: number;
}

void describe('bad input to replicas and services', () => {
  it('a config file with every kind of bad replica block is refused at once, each issue located, nothing started', T, async () => {
    const { dir, remove } = tempDir('replicas-bad');
    const before = activeResources();
    try {
      const p = pathsIn(dir);
      const file = writeConfig(
        dir,
        [
          replicaWorker(p, { id: 'none', deployment: 'inline', extra: '    instances: 0' }),
          replicaWorker(p, { id: 'horde', deployment: 'process', extra: '    instances: 10000' }),
          replicaWorker(p, { id: 'odd', deployment: 'thread', extra: '    instances: 2\n    balancer: { strategy: fastest }' }),
          replicaWorker(p, { id: 'upside', deployment: 'inline', extra: '    autoscale: { min: 4, max: 2, metric: inflight_per_replica, scale_up_at: 8, scale_down_at: 2 }' }),
          replicaWorker(p, { id: 'outside', deployment: 'inline', extra: '    instances: 5\n    autoscale: { min: 1, max: 3, metric: inflight_per_replica, scale_up_at: 8, scale_down_at: 9 }' }),
          replicaWorker(p, { id: 'fine', deployment: 'inline', extra: '    instances: 2' }),
        ].join(''),
      );
      const refused = await codeOf(Master.fromConfigFile(file));
      assert.equal(refused.code, 'HSU_ERR_CONFIG_INVALID');
      const issues = refused.context.issues as Issue[];
      const text = readFileSync(file, 'utf8').split('\n');
      const lineOf = (needle: string): number => text.findIndex((line) => line.includes(needle)) + 1;
      assert.deepEqual(
        issues.map((i) => [i.path, i.line]).sort(),
        [
          ['workers[0].instances', lineOf('instances: 0')],
          ['workers[1].instances', lineOf('instances: 10000')],
          ['workers[2].balancer.strategy', lineOf('strategy: fastest')],
          // Only the bounds are wrong: instances, not given, follows min and is not reported on its own.
          ['workers[3].autoscale.max', lineOf('min: 4, max: 2')],
          ['workers[4].autoscale.scale_down_at', lineOf('scale_down_at: 9')],
          ['workers[4].instances', lineOf('instances: 5')],
        ],
        JSON.stringify(issues, null, 1),
      );
      assert.deepEqual(liveChildren(), [], 'no replica was started');
      const after = activeResources();
      for (const [type, n] of after) if (type !== 'Timeout') assert.ok(n <= (before.get(type) ?? 0), `${type} left: ${n}`);
    } finally {
      remove();
    }
  });

  it('a running master refuses bad replica blocks without disturbing its services; calls without a healthy replica are coded', T, async () => {
    await withConfig(
      (p) => replicaWorker(p, { id: 'svc', deployment: 'thread', extra: '    instances: 2' }),
      async ({ master, dir }) => {
        await master.start();
        const p = pathsIn(dir);
        const module = { module_type: 'plugin', module_path: p.replica };
        for (const [extra, where] of [
          [{ instances: 0 }, 'instances'],
          [{ instances: 10_000 }, 'instances'],
          [{ instances: 2, balancer: { strategy: 'fastest' } }, 'balancer.strategy'],
          [{ resilience: { retry: { max_attempts: 0 } } }, 'resilience.retry.max_attempts'],
        ] as const) {
          let error: { code?: string; context?: { issues?: Issue[] } } | undefined;
          try {
            master.addWorker({ id: 'bad', type: 'module', module, ...extra } as never);
          } catch (e) {
            error = e as typeof error;
          }
          assert.equal(error?.code, 'HSU_ERR_CONFIG_INVALID', JSON.stringify(extra));
          assert.deepEqual(
            error?.context?.issues?.map((i) => i.path),
            [where],
          );
        }
        assert.deepEqual(master.listWorkers(), ['svc#0', 'svc#1'], 'nothing was added');
        const served = new Set<string>();
        for (let i = 0; i < 4; i++) served.add(((await master.call('svc', 'work', { ms: 0 })) as Served).worker);
        assert.deepEqual([...served].sort(), ['svc#0', 'svc#1'], 'the service serves on');

        const ambiguous = await codeOf(Promise.resolve().then(() => master.getWorkerState('svc')));
        assert.deepEqual([ambiguous.code, ambiguous.context.replicas], ['HSU_ERR_WORKER_NOT_FOUND', ['svc#0', 'svc#1']], 'a worker of several replicas is named by replica');

        await master.stopWorker('svc');
        const none = await codeOf(master.call('svc', 'work', { ms: 0 }));
        assert.equal(none.code, 'HSU_ERR_NO_HEALTHY_INSTANCE');
        assert.deepEqual([none.context.service, none.context.instances, none.context.healthy], ['svc', 2, 0]);
        assert.equal((await codeOf(master.call('svc#1', 'work', { ms: 0 }))).code, 'HSU_ERR_CALL_NOT_RUNNING', 'a stopped replica called by id');
        assert.equal((await codeOf(master.call('nobody', 'work'))).code, 'HSU_ERR_WORKER_NOT_FOUND');
      },
    );
  });
});
