// /metrics after real crashes, restarts and calls, read by Prometheus itself (promtool checks the
// text; a Prometheus server scrapes the master's API on a loopback port and is queried), and the
// behaviour around it: cardinality bounds, removed workers, no metrics, and nothing left behind.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrumentMaster } from '../../src/observability/index.js';
import { createApiApp } from '../../src/api/app.js';
import { withServedApi } from '../api/helpers.js';
import { nodeWorker, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import { sampleValue, startTcpApi, tracedWorker } from './helpers.js';
import { hsuPromtoolProblems, PrometheusServer, prometheusMissing } from './prometheus.js';

const T = { timeout: 90_000 };

async function scenario(t: TestMaster): Promise<void> {
  const { master, events } = t;
  master.addWorker(nodeWorker(t, 'crasher', 'crash-after.mjs', ['3', '300'], { restart: { policy: 'always', backoff: { initial: '50ms', jitter: 0 }, intensity: { max_restarts: 2, window: '60s' } } }));
  master.addWorker(nodeWorker(t, 'sleeper', 'forever.mjs'));
  master.addWorker(tracedWorker('threaded', 'thread'));
  master.addWorker(tracedWorker('hosted', 'process'));
  master.addWorker(tracedWorker('inlined', 'inline'));
  await master.start();
  await events.state('crasher', 'failed');
  await events.line('sleeper', (l) => l === 'ready');
  const firstPid = master.getWorkerStateWithDiagnostics('sleeper').pid;
  await master.restartWorker('sleeper');
  assert.notEqual(master.getWorkerStateWithDiagnostics('sleeper').pid, firstPid);
  for (let i = 0; i < 5; i++) await master.call('threaded', 'work', { tag: String(i) });
  for (let i = 0; i < 3; i++) await master.call('inlined', 'plain');
  await master.call('hosted', 'plain');
  for (let i = 0; i < 2; i++) await assert.rejects(master.call('threaded', 'fail'), { code: 'E_FIXTURE' });
  await assert.rejects(master.call('inlined', 'we"ird\\name'), { code: 'HSU_ERR_ACTION_NOT_FOUND' });
  // The heap figures come with the module's facts: read once so the next scrape has them.
  master.getWorkerStateWithDiagnostics('threaded');
  master.getWorkerStateWithDiagnostics('hosted');
}

void describe('metrics', () => {
  it('Prometheus scrapes /metrics and reads the values of real crashes, restarts and calls', { ...T, skip: prometheusMissing() }, async () => {
    await withMaster(async (t) => {
      const observed = await instrumentMaster(t.master);
      const api = await startTcpApi(t);
      let prometheus: PrometheusServer | undefined;
      try {
        await scenario(t);
        const response = await fetch(`${api.url}/metrics`);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
        const text = await response.text();
        // prom-client names three of its Node gauges *_total, which promtool's lint dislikes; nothing else may appear.
        assert.deepEqual(hsuPromtoolProblems(text), [], 'promtool check metrics finds nothing to complain about');

        prometheus = await PrometheusServer.start(api.host);
        const one = (expr: string, accept?: (v: number) => boolean): Promise<number> => prometheus!.one(expr, accept);
        await prometheus.waitFor('up{job="hsu"}', (s) => s[0]?.value === 1);
        const crasher = '{worker_id="crasher",type="process",deployment="process"}';
        assert.equal(await one(`hsu_worker_crashes_total${crasher}`), 3);
        assert.equal(await one(`hsu_worker_restarts_total${crasher}`), 2);
        assert.equal(await one(`hsu_worker_last_exit_code${crasher}`), 3);
        assert.equal(await one(`hsu_worker_up${crasher}`), 0);
        assert.equal(await one(`hsu_worker_state{worker_id="crasher",state="failed"}`), 1);
        assert.equal(await one(`sum(hsu_worker_state{worker_id="crasher"})`), 1, 'exactly one state is current');
        assert.equal(await one('hsu_worker_restarts_total{worker_id="sleeper"}'), 1);
        assert.equal(await one('hsu_worker_crashes_total{worker_id="sleeper"}'), 0);
        assert.equal(await one('hsu_worker_last_exit_code{worker_id="sleeper"}'), 0, 'forever.mjs exits 0 on SIGTERM');
        assert.equal(await one('hsu_worker_up{worker_id="sleeper"}'), 1);
        assert.ok((await one('hsu_worker_resident_memory_bytes{worker_id="sleeper"}')) > 1024 * 1024);
        assert.ok((await one('hsu_worker_cpu_seconds_total{worker_id="hosted",deployment="host"}')) > 0);
        assert.ok((await one('hsu_worker_heap_used_bytes{worker_id="threaded",deployment="thread"}')) > 0);
        assert.ok((await one('hsu_worker_heap_used_bytes{worker_id="hosted",deployment="host"}')) > 0);
        assert.ok((await one('hsu_worker_uptime_seconds{worker_id="inlined",deployment="inline"}')) > 0);
        assert.equal(await one('hsu_worker_health{worker_id="inlined",status="unknown"}'), 1);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="threaded",action="work",outcome="ok"}'), 5);
        assert.equal(await one('hsu_call_duration_seconds_bucket{worker_id="threaded",action="work",outcome="ok",le="+Inf"}'), 5);
        assert.ok((await one('hsu_call_duration_seconds_sum{worker_id="threaded",action="work",outcome="ok"}')) > 0);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="threaded",action="fail",outcome="error"}'), 2);
        assert.equal(await one('hsu_call_errors_total{worker_id="threaded",action="fail",code="E_FIXTURE"}'), 2);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="inlined",action="plain",outcome="ok"}'), 3);
        // A label value with a quote and a backslash survives the round trip.
        assert.equal(await one('hsu_call_errors_total{worker_id="inlined",action="we\\"ird\\\\name",code="HSU_ERR_ACTION_NOT_FOUND"}'), 1);
        assert.equal(await one('hsu_master_workers'), 5);
        assert.ok((await one('process_resident_memory_bytes{job="hsu"}')) > 0, "the master's own Node metrics are there");
        assert.ok((await prometheus.query('nodejs_eventloop_lag_seconds')).length === 1);
      } finally {
        await prometheus?.stop();
        await api.server.close();
        await observed.close();
      }
    });
  });

  it('reads every value from events: no diagnostics are built while scraping', T, async () => {
    await withMaster(async (t) => {
      const observed = await instrumentMaster(t.master, { metrics: { node: false } });
      t.master.addWorker(nodeWorker(t, 'sleeper', 'forever.mjs'));
      await t.master.start();
      await t.events.line('sleeper', (l) => l === 'ready');
      const original = t.master.getWorkerStateWithDiagnostics.bind(t.master);
      let built = 0;
      t.master.getWorkerStateWithDiagnostics = (id) => {
        built += 1;
        return original(id);
      };
      const text = await observed.metrics!.render();
      assert.equal(sampleValue(text, 'hsu_worker_up', { worker_id: 'sleeper' }), 1);
      assert.ok((sampleValue(text, 'hsu_worker_resident_memory_bytes', { worker_id: 'sleeper' }) ?? 0) > 0);
      assert.equal(built, 0, 'a process worker is scraped without its diagnostics');
      assert.equal(text.includes('process_cpu_seconds_total'), false, 'node: false leaves the Node metrics out');
      await observed.close();
    });
  });

  it('bounds the cardinality of call metrics and drops the series of a removed worker', T, async () => {
    await withMaster(async (t) => {
      const observed = await instrumentMaster(t.master, { metrics: { max_actions_per_worker: 2 } });
      t.master.addWorker(tracedWorker('mod', 'inline'));
      await t.master.start();
      await t.master.call('mod', 'plain');
      await t.master.call('mod', 'work', {});
      await assert.rejects(t.master.call('mod', 'third-action'), { code: 'HSU_ERR_ACTION_NOT_FOUND' });
      await assert.rejects(t.master.call('ghost', 'x'), { code: 'HSU_ERR_WORKER_NOT_FOUND' });
      let text = await observed.metrics!.render();
      assert.equal(sampleValue(text, 'hsu_call_errors_total', { worker_id: 'mod', action: '_other', code: 'HSU_ERR_ACTION_NOT_FOUND' }), 1);
      assert.equal(sampleValue(text, 'hsu_call_errors_total', { worker_id: '_unknown', action: 'x', code: 'HSU_ERR_WORKER_NOT_FOUND' }), 1);
      assert.equal(text.includes('third-action'), false);
      await t.master.stopWorker('mod');
      await t.master.removeWorker('mod');
      await t.events.waitFor('the removal', () => (t.master.listWorkers().length === 0 ? true : undefined));
      await new Promise((resolve) => setImmediate(resolve)); // the removed event is delivered after the step
      text = await observed.metrics!.render();
      assert.equal(text.includes('worker_id="mod"'), false, `no series of a removed worker:\n${text.split('\n').filter((l) => l.includes('"mod"')).join('\n')}`);
      await observed.close();
    });
  });

  it('answers 404 METRICS_DISABLED without metrics, and close() gives back every listener', T, async () => {
    await withMaster(async (t) => {
      await withServedApi(createApiApp({ master: t.master, logDir: t.dir }, { token: 'tok-0123456789abcdef' }), async (app) => {
      const before = (['state', 'exit', 'restart', 'health', 'added', 'removed'] as const).map((e) => t.master.events.listenerCount(e));
      let response = await app.request('/metrics');
      assert.equal(response.status, 404);
      assert.equal(((await response.json()) as { code: string }).code, 'HSU_ERR_METRICS_DISABLED');
      const observed = await instrumentMaster(t.master);
      t.master.addWorker(tracedWorker('mod', 'inline'));
      await t.master.start();
      response = await app.request('/metrics');
      assert.equal(response.status, 200);
      await observed.close();
      assert.equal((await app.request('/metrics')).status, 404);
      const after = (['state', 'exit', 'restart', 'health', 'added', 'removed'] as const).map((e) => t.master.events.listenerCount(e));
      assert.deepEqual(after, before, 'every bus listener of the metrics is gone');
      // The middleware stays in the chain but passes calls through untouched.
      assert.equal(await t.master.call('mod', 'plain'), process.pid);
      await assert.rejects(instrumentMaster(t.master, { metrics: { max_actions_per_worker: 0 } }), { code: 'HSU_ERR_CONFIG_INVALID' });
      });
    });
  });
});
