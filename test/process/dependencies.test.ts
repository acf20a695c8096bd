// depends_on: a worker starts only once what it depends on is up (running, or healthy), stops
// before it, fails with DEPENDENCY_FAILED when a dependency cannot come up, and a bad graph is
// refused at validation with the place of the mistake. Real processes; order of events only.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { validateConfigText } from '../../src/index.js';
import type { WorkerConfigInput } from '../../src/index.js';
import { nodeWorker, processesWithMarker, rejectsWithCode, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { ownCgroups, processFixture } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

/** An integrated HTTP server, healthy by a tcp probe of its own port; it listens only after a while. */
function db(t: TestMaster, env: Record<string, string> = {}, extra: Record<string, unknown> = {}): WorkerConfigInput {
  return {
    id: 'db',
    type: 'process',
    management: 'integrated',
    execution: { executable_path: process.execPath, args: [processFixture('http-server.mjs')], environment: { HSU_TEST_MARKER: t.marker, LISTEN_DELAY_MS: '300', ...env } },
    health_check: { type: 'tcp', interval: '100ms', timeout: '1s', success_threshold: 2 },
    ...extra,
  } as WorkerConfigInput;
}

function api(t: TestMaster): WorkerConfigInput {
  return nodeWorker(t, 'api', 'forever.mjs', [], { depends_on: [{ worker: 'db', condition: 'healthy' }] });
}

/** State and health events of every worker, in delivery order. */
function timeline(t: TestMaster): string[] {
  const log: string[] = [];
  t.master.on('state', (e) => log.push(`${e.worker_id}:${e.to}`));
  t.master.on('health', (e) => log.push(`${e.worker_id}:${e.status}`));
  return log;
}

void describe('depends_on', () => {
  void it('api (condition healthy) starts only after db is healthy; shutdown stops api before db', () =>
    withMaster(async (t) => {
      const log = timeline(t);
      // api first in the config: the order comes from the graph, not from the list.
      t.master.addWorker(api(t));
      t.master.addWorker(db(t));
      const results = await t.master.start();
      assert.deepEqual(
        results.map((r) => [r.id, r.ok]),
        [
          ['db', true],
          ['api', true],
        ],
      );
      const at = (entry: string): number => log.indexOf(entry);
      assert.ok(at('db:running') !== -1 && at('db:healthy') > at('db:running'), log.join(' '));
      assert.ok(at('api:starting') > at('db:healthy'), `api must start after db is healthy: ${log.join(' ')}`);
      await t.master.shutdown();
      assert.ok(at('api:stopped') !== -1 && at('db:stopping') > at('api:stopped'), `api must be stopped before db stops: ${log.join(' ')}`);
    }));

  void it('condition running: api starts once db is running, before any health verdict', () =>
    withMaster(async (t) => {
      const log = timeline(t);
      t.master.addWorker(db(t, { LISTEN_DELAY_MS: '0' }, { health_check: { type: 'tcp', interval: '5s', timeout: '1s' } }));
      t.master.addWorker(nodeWorker(t, 'api', 'forever.mjs', [], { depends_on: ['db'] }));
      await t.master.start();
      assert.ok(log.indexOf('api:starting') > log.indexOf('db:running'), log.join(' '));
      assert.ok(!log.includes('db:healthy'), 'the first probe is one interval away; running was enough');
    }));

  void it('a dependency that fails to start fails its dependent with DEPENDENCY_FAILED; the dependent never starts', () =>
    withMaster(async (t) => {
      t.master.addWorker(db(t, { NEVER_LISTEN: '1' }, { start_timeout: '1s', restart: { policy: 'never' } }));
      t.master.addWorker(api(t));
      const results = await t.master.start();
      const byId = Object.fromEntries(results.map((r) => [r.id, r]));
      assert.equal(byId.db?.ok, false);
      assert.equal(byId.db?.error?.code, 'HSU_ERR_START_TIMEOUT');
      assert.equal(byId.api?.ok, false);
      assert.equal(byId.api?.error?.code, 'HSU_ERR_DEPENDENCY_FAILED');
      assert.deepEqual(t.events.transitions('api'), [], 'api never left idle');
      assert.equal(t.master.getWorkerState('api'), 'idle');
      assert.deepEqual(processesWithMarker(t.marker), []);
    }));

  void it("master.startWorker('api') with a dependency that fails to start rejects with DEPENDENCY_FAILED; api never starts", () =>
    withMaster(async (t) => {
      t.master.addWorker(db(t, { NEVER_LISTEN: '1' }, { start_timeout: '1s', restart: { policy: 'never' } }));
      t.master.addWorker(api(t));
      // The same outcome as master.start(): the dependent's own error says a dependency failed.
      const error = await rejectsWithCode(t.master.startWorker('api'), 'HSU_ERR_DEPENDENCY_FAILED');
      assert.equal(error.context.dependency, 'db');
      assert.equal(t.master.getWorkerState('db'), 'failed_start');
      assert.deepEqual(t.events.transitions('api'), []);
    }));

  void it("master.startWorker('api') starts db first and waits for it to be healthy", () =>
    withMaster(async (t) => {
      const log = timeline(t);
      t.master.addWorker(db(t));
      t.master.addWorker(api(t));
      await t.master.startWorker('api');
      assert.equal(t.master.getWorkerState('db'), 'running');
      assert.equal(t.master.getWorkerState('api'), 'running');
      assert.ok(log.indexOf('db:starting') !== -1 && log.indexOf('api:starting') > log.indexOf('db:healthy'), log.join(' '));
    }));
});

void describe('depends_on validation', () => {
  const yaml = (workers: string): string => `workers:\n${workers}`;
  const proc = (id: string, deps: string, extra = ''): string =>
    `  - id: ${id}\n    type: process\n    execution: { executable_path: /bin/true }\n    depends_on: ${deps}\n${extra}`;

  function issues(text: string): { path: string; message: string; line?: number }[] {
    const result = validateConfigText(text);
    assert.equal(result.ok, false, 'the config must be refused');
    return result.ok ? [] : result.issues;
  }

  void it('refuses a cycle, naming its path', () => {
    const found = issues(yaml(proc('a', '[b]') + proc('b', '[c]') + proc('c', '[a]')));
    const cycle = found.find((i) => /dependency cycle/.test(i.message));
    assert.ok(cycle, JSON.stringify(found));
    assert.match(cycle.message, /a -> b -> c -> a/);
    assert.match(cycle.path, /^workers\[0\]\.depends_on/);
    assert.equal(typeof cycle.line, 'number');
  });

  void it('refuses an unknown name and a self-dependency, each at its entry', () => {
    const found = issues(yaml(proc('a', '[ghost]') + proc('b', '[b]')));
    const unknown = found.find((i) => i.path === 'workers[0].depends_on[0]');
    assert.match(unknown?.message ?? '', /no worker 'ghost'/);
    const self = found.find((i) => i.path === 'workers[1].depends_on[0]');
    assert.match(self?.message ?? '', /cannot depend on itself/);
    assert.equal(typeof unknown?.line, 'number');
  });

  void it('refuses condition healthy on a worker without a health_check', () => {
    const found = issues(yaml(proc('db', '[]') + proc('api', '[{ worker: db, condition: healthy }]')));
    const issue = found.find((i) => i.path === 'workers[1].depends_on[0]');
    assert.match(issue?.message ?? '', /needs a health_check on 'db'/);
    // With a health check on db the same config is accepted.
    const ok = validateConfigText(yaml(proc('db', '[]', '    health_check: { type: tcp, port: 1 }\n') + proc('api', '[{ worker: db, condition: healthy }]')));
    assert.equal(ok.ok, true, ok.ok ? '' : JSON.stringify(ok.issues));
  });
});
