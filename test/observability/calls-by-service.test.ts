// Calls by service: routed calls (a worker with replicas, a service name) and direct calls (one
// replica, a single worker) are counted per service, and the balancer's picks show which replica
// served the routed ones; read back by Prometheus itself. Removing a worker takes its series along.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instrumentMaster } from '../../src/observability/index.js';
import { withMaster } from '../helpers/master-helpers.js';
import { sampleValue, startTcpApi, tracedWorker } from './helpers.js';
import { hsuPromtoolProblems, PrometheusServer, prometheusMissing } from './prometheus.js';

const T = { timeout: 90_000 };

void describe('calls by service', () => {
  it('counts routed and direct calls per service, and the picks per replica', { ...T, skip: prometheusMissing() }, async () => {
    await withMaster(async (t) => {
      const { master } = t;
      const observed = await instrumentMaster(master);
      const api = await startTcpApi(t);
      let prometheus: PrometheusServer | undefined;
      try {
        master.addWorker(tracedWorker('api', 'thread', { instances: 2 }));
        master.addWorker(tracedWorker('solo', 'inline', { service: { name: 'payments' } }));
        await master.start();
        assert.deepEqual(master.listReplicas('api'), ['api#0', 'api#1']);
        for (let i = 0; i < 6; i++) await master.call('api', 'plain'); // routed: round robin over api#0 and api#1
        await master.call('api#1', 'plain'); // one replica, named
        for (let i = 0; i < 2; i++) await master.call('payments', 'plain'); // routed by service name
        for (let i = 0; i < 3; i++) await master.call('solo', 'plain'); // a single worker: direct
        await assert.rejects(master.call('api', 'fail'), { code: 'E_FIXTURE' });

        const text = await (await fetch(`${api.url}/metrics`)).text();
        assert.deepEqual(hsuPromtoolProblems(text), [], 'promtool check metrics finds nothing to complain about');

        prometheus = await PrometheusServer.start(api.host);
        const one = (expr: string, accept?: (v: number) => boolean): Promise<number> => prometheus!.one(expr, accept);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="_routed",service="api",action="plain",outcome="ok"}'), 6);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="api#1",service="api",action="plain",outcome="ok"}'), 1);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="_routed",service="payments",action="plain",outcome="ok"}'), 2);
        assert.equal(await one('hsu_call_duration_seconds_count{worker_id="solo",service="payments",action="plain",outcome="ok"}'), 3);
        assert.equal(await one('hsu_call_errors_total{worker_id="_routed",service="api",action="fail",code="E_FIXTURE"}'), 1);
        // What an operator asks: calls and latency per service, whichever way they were addressed.
        assert.equal(await one('sum by (service) (hsu_call_duration_seconds_count{service="api"})'), 8);
        assert.equal(await one('sum by (service) (hsu_call_duration_seconds_count{service="payments"})'), 5);
        assert.ok((await one('histogram_quantile(0.5, sum by (service, le) (hsu_call_duration_seconds_bucket{service="payments"}))')) > 0);
        // Which replica served the routed calls: the balancer's picks (round robin: 7 routed calls over 2 replicas).
        const picks = await prometheus.waitFor('hsu_balancer_picks_total{service="api"}', (s) => s.length === 2);
        assert.deepEqual(picks.map((s) => s.metric.worker_id).sort(), ['api#0', 'api#1']);
        assert.deepEqual(picks.map((s) => s.value).sort(), [3, 4]);
        assert.equal(await one('hsu_balancer_picks_total{service="payments",worker_id="solo"}'), 2);
        assert.equal(await one('hsu_service_healthy_instances{service="api"}'), 2);
      } finally {
        await prometheus?.stop();
        await api.server.close();
      }

      await master.stopWorker('solo');
      await master.removeWorker('solo');
      await t.events.waitFor('the removal', () => (master.listWorkers().includes('solo') ? undefined : true));
      await new Promise((resolve) => setImmediate(resolve)); // the removed event is delivered after the step
      const after = await observed.metrics!.render();
      assert.equal(after.includes('service="payments"'), false, `no call series of a service nothing serves:\n${after.split('\n').filter((l) => l.includes('payments')).join('\n')}`);
      assert.equal(sampleValue(after, 'hsu_call_duration_seconds_count', { worker_id: '_routed', service: 'api', action: 'plain' }), 6);
      await observed.close();
    });
  });
});
