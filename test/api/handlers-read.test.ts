// The read endpoints through app.request(): a real master with a real process worker, a plugin
// module inline and one in a thread; no socket.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pluginWorker } from '../helpers/master-helpers.js';
import { echoWorker, eventually, ping, withHarness, type Harness } from './helpers.js';

const T = { timeout: 30_000 };

async function withWorkers(body: (h: Harness) => Promise<void>): Promise<void> {
  await withHarness(
    async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      h.master.addWorker(pluginWorker('plug', 'ok.mjs'));
      await h.master.start();
      await body(h);
    },
    { configFile: '/etc/hsu.yaml', stateDir: '/var/lib/hsu', shutdownTimeoutMs: 5_000, startedAt: Date.now() - 1_000 },
  );
}

void describe('control API reads', () => {
  it('GET / describes the master', T, async () => {
    await withWorkers(async (h) => {
      const { status, body } = await h.json('GET', '/', { token: false });
      assert.equal(status, 200);
      assert.equal(body.name, 'hsu');
      assert.equal(body.pid, process.pid);
      assert.equal(body.status, 'running');
      assert.equal(body.config_file, '/etc/hsu.yaml');
      assert.equal(body.state_dir, '/var/lib/hsu');
      assert.equal(body.workers, 2);
      assert.equal(body.shutdown_timeout_ms, 5_000);
      assert.ok((body.uptime_ms as number) >= 1_000);
    });
  });

  it('GET /services lists each registered service with its instances; a routed one has its route', T, async () => {
    await withWorkers(async (h) => {
      await h.master.call('plug', 'instance');
      const { status, body } = await h.json<{ services: { service: string; instances: { id: string; health: string }[]; route: unknown }[] }>('GET', '/services', { token: false });
      assert.equal(status, 200);
      const plug = body.services.find((s) => s.service === 'plug');
      assert.deepEqual(plug?.instances.map((i) => [i.id, i.health]), [['plug', 'healthy']]);
    });
  });

  it('GET /cluster of a master that is alone is 404 CLUSTER_NOT_JOINED', T, async () => {
    await withWorkers(async (h) => {
      const { status, body } = await h.json<{ code: string }>('GET', '/cluster', { token: false });
      assert.deepEqual([status, body.code], [404, 'HSU_ERR_CLUSTER_NOT_JOINED']);
    });
  });

  it('GET /workers lists every worker with diagnostics, without history; reads need no token', T, async () => {
    await withWorkers(async (h) => {
      const { status, body } = await h.json<{ workers: Record<string, unknown>[] }>('GET', '/workers', { token: false });
      assert.equal(status, 200);
      assert.deepEqual(
        body.workers.map((w) => [w.id, w.state, w.runtime]),
        [
          ['echo', 'running', 'process'],
          ['plug', 'running', 'inline'],
        ],
      );
      assert.equal(body.workers[0]!.pid, h.master.getWorkerStateWithDiagnostics('echo').pid);
      assert.ok(!('history' in body.workers[0]!));
    });
  });

  it('GET /workers/:id and /history give the transitions; unknown ids are 404, path-like ids 400', T, async () => {
    await withWorkers(async (h) => {
      const one = await h.json<{ id: string; history: { from: string; to: string }[] }>('GET', '/workers/echo');
      assert.equal(one.status, 200);
      assert.deepEqual(
        one.body.history.map((t) => `${t.from}->${t.to}`),
        ['idle->starting', 'starting->running'],
      );
      const history = await h.json<{ worker_id: string; history: unknown[] }>('GET', '/workers/echo/history');
      assert.equal(history.body.worker_id, 'echo');
      assert.deepEqual(history.body.history, one.body.history);
      const missing = await h.json('GET', '/workers/nope');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.code, 'HSU_ERR_WORKER_NOT_FOUND');
      assert.deepEqual(missing.body.details, { worker_id: 'nope' });
      for (const bad of ['..%2F..%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd', 'a.b', 'x'.repeat(65)]) {
        for (const suffix of ['', '/history', '/logs', '/logs/stream']) {
          const refused = await h.json('GET', `/workers/${bad}${suffix}`);
          assert.equal(refused.status, 400, `${bad}${suffix}`);
          assert.equal(refused.body.code, 'HSU_ERR_WORKER_ID_INVALID');
        }
      }
    });
  });

  it('GET /workers/:id/logs tails both files; lines is bounded and checked', T, async () => {
    await withWorkers(async (h) => {
      await ping(h, 'echo', 3);
      await h.events.line('echo', (line) => line === 'ping 3');
      // The event can come before the file write lands: wait for the files to have the third line.
      const tail = await eventually('the third ping and pong in the files', async () => {
        const { body } = await h.json<{ stdout: { lines: string[] }; stderr: { lines: string[]; truncated: boolean } }>('GET', '/workers/echo/logs?lines=2');
        return body.stderr.lines.at(-1) === 'pong 3' && body.stdout.lines.at(-1) === 'ping 3' ? body : undefined;
      });
      assert.deepEqual(tail.stdout.lines, ['ping 2', 'ping 3']);
      assert.deepEqual(tail.stderr.lines, ['pong 2', 'pong 3']);
      assert.equal(tail.stderr.truncated, true);
      const all = await h.json<{ stdout: { lines: string[]; truncated: boolean; file: string; exists: boolean } }>('GET', '/workers/echo/logs?lines=100');
      assert.deepEqual(all.body.stdout.lines, ['ready', 'ping 1', 'ping 2', 'ping 3']);
      assert.equal(all.body.stdout.truncated, false);
      assert.equal(all.body.stdout.file, path.join(h.dir, 'logs', 'echo.out.log'));
      const repeated = await h.json<{ stdout: { lines: string[] } }>('GET', '/workers/echo/logs?lines=1&lines=100');
      assert.deepEqual(repeated.body.stdout.lines, ['ping 3'], 'a repeated name keeps its first value');
      for (const bad of ['lines=-1', 'lines=abc', 'lines=10001', 'other=1']) {
        const refused = await h.json('GET', `/workers/echo/logs?${bad}`);
        assert.equal(refused.status, 400, bad);
        assert.equal(refused.body.code, 'HSU_ERR_API_BAD_REQUEST');
      }
    });
  });

  it('an inline module has no log files: 404 API_NO_LOG_FILES', T, async () => {
    await withWorkers(async (h) => {
      const { status, body } = await h.json('GET', '/workers/plug/logs');
      assert.equal(status, 404);
      assert.equal(body.code, 'HSU_ERR_API_NO_LOG_FILES');
      assert.deepEqual(body.details, { worker_id: 'plug', runtime: 'inline' });
    });
  });

  it('the logs endpoint does not follow a symlink planted in place of a log file', T, async () => {
    await withHarness(async (h) => {
      const logs = path.join(h.dir, 'logs');
      mkdirSync(logs, { recursive: true });
      const secret = path.join(h.dir, 'secret.txt');
      writeFileSync(secret, 'top secret\n');
      symlinkSync(secret, path.join(logs, 'linked.out.log'));
      h.master.addWorker(echoWorker(h, 'linked'));
      const { status, body } = await h.json<{ code: string; message: string }>('GET', '/workers/linked/logs');
      assert.equal(status, 403);
      assert.equal(body.code, 'HSU_ERR_API_LOG_REFUSED');
      assert.ok(!JSON.stringify(body).includes('top secret'));
    });
  });

  it('unknown endpoints are 404 API_ROUTE_NOT_FOUND in the error format', T, async () => {
    await withHarness(async (h) => {
      const { status, body } = await h.json('GET', '/nothing/here');
      assert.equal(status, 404);
      assert.equal(body.code, 'HSU_ERR_API_ROUTE_NOT_FOUND');
      assert.deepEqual(body.details, { method: 'GET', path: '/nothing/here' });
      assert.equal((await h.json('PUT', '/workers', { body: {} })).body.code, 'HSU_ERR_API_ROUTE_NOT_FOUND');
    });
  });
});
