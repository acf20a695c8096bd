// Command workers (hsu/messaging) in /metrics: real command workers over a real SQLite log,
// deployed inline, in a thread and in their own process, with handled, failed and dead-lettered
// messages and a held delivery (a known lag), read back by Prometheus itself.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import type { Master, WorkerConfigInput } from '../../src/index.js';
import { SqliteMessageLog } from '../../src/messaging/index.js';
import { instrumentMaster } from '../../src/observability/index.js';
import { withMaster } from '../helpers/master-helpers.js';
import { commands, Job } from './fixtures/command-worker.js';
import { DEPLOYMENTS, sampleValue, startTcpApi, tracedWorker, type Deployment } from './helpers.js';
import { hsuPromtoolProblems, PrometheusServer, prometheusMissing } from './prometheus.js';

const T = { timeout: 120_000 };
const PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'command-worker.js');

function commandWorker(deployment: Deployment, db: string): WorkerConfigInput {
  const module = { module_type: 'plugin', module_path: PLUGIN, config: { db, consumer: `jobs-${deployment}` } };
  if (deployment === 'process') return { id: `cw-${deployment}`, type: 'process', module } as WorkerConfigInput;
  return { id: `cw-${deployment}`, type: 'module', module: { ...module, isolation: deployment } } as WorkerConfigInput;
}

/** Resolves once the worker has dead-lettered #3 and holds #5 (its own diagnostics action says so). */
async function holding(master: Master, id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const d = (await master.call(id, 'diagnostics')) as { checkpoint: number; dead_lettered: number; delivery_in_progress: { message_id: number } | null };
    if (d.checkpoint === 4 && d.dead_lettered === 1 && d.delivery_in_progress?.message_id === 5) return;
    if (Date.now() > deadline) throw new Error(`${id} never reached the held message: ${JSON.stringify(d)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** ok ok fail ok hold ok ok: 3 handled, #3 dead-lettered after 2 failed deliveries, #5 in hand, lag 3 (ids 5..7). */
const KINDS = ['ok', 'ok', 'fail', 'ok', 'hold', 'ok', 'ok'] as const;

void describe('command worker metrics', () => {
  it('Prometheus reads handled, failed, dead-lettered, lag and the delivery in hand of command workers in every deployment', { ...T, skip: prometheusMissing() }, async () => {
    await withMaster(async (t) => {
      const db = path.join(t.dir, 'jobs.db');
      const log = SqliteMessageLog.open(db, { commands });
      const observed = await instrumentMaster(t.master);
      const api = await startTcpApi(t);
      let prometheus: PrometheusServer | undefined;
      try {
        await log.appendBatch(KINDS.map((kind) => Job({ kind })));
        for (const deployment of DEPLOYMENTS) t.master.addWorker(commandWorker(deployment, db));
        await t.master.start();
        // The worker's own answer says when it has reached the held message; the metrics must then agree.
        for (const deployment of DEPLOYMENTS) await holding(t.master, `cw-${deployment}`);
        const text = await (await fetch(`${api.url}/metrics`)).text();
        assert.deepEqual(hsuPromtoolProblems(text), [], 'promtool check metrics finds nothing to complain about');

        prometheus = await PrometheusServer.start(api.host);
        const one = (expr: string, accept?: (v: number) => boolean): Promise<number> => prometheus!.one(expr, accept);
        for (const deployment of DEPLOYMENTS) {
          const labels = `{worker_id="cw-${deployment}",consumer="jobs-${deployment}"}`;
          // Thread and host report as of their previous facts answer: wait for the scrape that has the settled figures.
          assert.equal(await one(`hsu_command_lag_messages${labels}`, (v) => v === 3), 3, `${deployment}: head 7 - checkpoint 4`);
          assert.equal(await one(`hsu_command_handled_total${labels}`), 3, deployment);
          assert.equal(await one(`hsu_command_failed_deliveries_total${labels}`), 2, deployment);
          assert.equal(await one(`hsu_command_retries_total${labels}`), 1, deployment);
          assert.equal(await one(`hsu_command_dead_letters_total${labels}`), 1, deployment);
          assert.equal(await one(`hsu_command_checkpoint_id${labels}`), 4, deployment);
          assert.equal(await one(`hsu_command_log_head_id${labels}`), 7, deployment);
          assert.ok((await one(`hsu_command_handler_running_seconds${labels}`, (v) => v > 0)) > 0, `${deployment}: #5 is in hand`);
        }
        const deployments = await prometheus.query('hsu_command_handled_total');
        assert.deepEqual(deployments.map((s) => s.metric.deployment).sort(), ['host', 'inline', 'thread']);

        // A message appended now is handled by nobody (all three hold #5): the lag follows the head.
        await log.append(Job({ kind: 'ok' }));
        assert.equal(await one('hsu_command_lag_messages{worker_id="cw-inline"}', (v) => v === 4), 4);
      } finally {
        await prometheus?.stop();
        await api.server.close();
        await observed.close();
        await t.master.shutdown();
        await log.close();
      }
    });
  });

  it('asks a plain inline module for its diagnostics once per instance, a command worker at every scrape', T, async () => {
    await withMaster(async (t) => {
      const db = path.join(t.dir, 'jobs.db');
      const log = SqliteMessageLog.open(db, { commands });
      const observed = await instrumentMaster(t.master, { metrics: { node: false } });
      try {
        await log.append(Job({ kind: 'ok' }));
        const original = t.master.getWorkerStateWithDiagnostics.bind(t.master);
        const asked = new Map<string, number>();
        t.master.getWorkerStateWithDiagnostics = (id) => {
          asked.set(id, (asked.get(id) ?? 0) + 1);
          return original(id);
        };
        t.master.addWorker(tracedWorker('plain', 'inline'));
        t.master.addWorker(commandWorker('inline', db));
        await t.master.start();
        // Learnt when it starts (off the scrape) or by the first scrape, whichever comes first: once either way.
        let text = '';
        for (let i = 0; i < 3; i++) text = await observed.metrics!.render();
        assert.equal(asked.get('plain'), 1, 'a module that is not a command worker is asked once');
        assert.ok((asked.get('cw-inline') ?? 0) >= 3, 'a command worker is read at every scrape');
        assert.equal(text.includes('hsu_command_handled_total{worker_id="plain"'), false);
        assert.notEqual(sampleValue(text, 'hsu_command_log_head_id', { worker_id: 'cw-inline' }), undefined);

        await t.master.restartWorker('plain');
        await observed.metrics!.render();
        assert.equal(asked.get('plain'), 2, 'a new instance is asked again (it may run other code)');
      } finally {
        await observed.close();
        await t.master.shutdown();
        await log.close();
      }
    });
  });
});
