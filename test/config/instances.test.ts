// `instances` and `autoscale`: without `instances` a worker starts `autoscale.min` replicas (1
// without autoscale); an explicit `instances` outside min..max is a config error located at its
// own key. The loader's result, then a real master starting the replicas.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigText } from '../../src/config/index.js';
import { pluginWorker, withMaster } from '../helpers/master-helpers.js';

const AUTOSCALE = '{ min: 3, max: 5, metric: inflight_per_replica, scale_up_at: 100, scale_down_at: 0, window: 1m, cooldown: 1m }';

function workerYaml(extra: string[]): string {
  return ['workers:', '  - id: pool', '    type: process', '    execution: { executable_path: node }', ...extra, ''].join('\n');
}

void describe('instances with autoscale', () => {
  it('defaults to autoscale.min, and to 1 without autoscale', () => {
    const scaled = validateConfigText(workerYaml([`    autoscale: ${AUTOSCALE}`]), '/srv/hsu.yaml');
    assert.ok(scaled.ok, JSON.stringify(!scaled.ok && scaled.issues));
    assert.equal(scaled.config.workers[0]?.instances, 3);
    const plain = validateConfigText(workerYaml([]), '/srv/hsu.yaml');
    assert.ok(plain.ok);
    assert.equal(plain.config.workers[0]?.instances, 1);
    const explicit = validateConfigText(workerYaml(['    instances: 4', `    autoscale: ${AUTOSCALE}`]), '/srv/hsu.yaml');
    assert.ok(explicit.ok);
    assert.equal(explicit.config.workers[0]?.instances, 4);
  });

  it('an explicit instances outside min..max is an error at that key, with its line', () => {
    for (const count of [2, 6]) {
      const result = validateConfigText(workerYaml([`    autoscale: ${AUTOSCALE}`, `    instances: ${count}`]), '/srv/hsu.yaml');
      assert.ok(!result.ok, `instances: ${count} was accepted`);
      const issue = result.issues.find((i) => i.path === 'workers[0].instances');
      assert.ok(issue !== undefined, JSON.stringify(result.issues));
      assert.equal(issue.file, '/srv/hsu.yaml');
      assert.equal(issue.line, 6, 'located at the instances key');
    }
  });

  it('a master starts autoscale.min replicas of a worker without instances', () =>
    withMaster(async (t) => {
      t.master.addWorker(pluginWorker('pool', 'ok.mjs', {}, { autoscale: { min: 3, max: 5, metric: 'inflight_per_replica', scale_up_at: 100, scale_down_at: 0, window: '1m', cooldown: '1m' } }));
      await t.master.startWorker('pool');
      for (const id of ['pool#0', 'pool#1', 'pool#2']) assert.equal(t.master.getWorkerState(id), 'running', id);
      assert.equal(t.master.services.registry.instances('pool').length, 3);
    }));
});
