// HTTP and TCP health probes through the Master, against real servers on loopback: a worker whose
// probe keeps failing is restarted by its policy with cause 'unhealthy'; a passing probe leaves it be.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { pluginWorker, waitForState, withMaster } from './helpers/master-helpers.js';

function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server | ReturnType<typeof createTcpServer>): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

describe('health probes', () => {
  it('http: 2xx is healthy; repeated 5xx restarts the worker with cause unhealthy', async () => {
    let status = 200;
    const server = createServer((_req, res) => {
      res.statusCode = status;
      res.end();
    });
    const port = await listen(server);
    try {
      await withMaster(async ({ master, events }) => {
        const url = `http://127.0.0.1:${port}/health`;
        master.addWorker(pluginWorker('web', 'ok.mjs', {}, { health_check: { type: 'http', url, interval: '50ms', timeout: '1s', failure_threshold: 2 } }));
        await master.startWorker('web');
        const healthy = await master.getWorkerHealth('web');
        assert.equal(healthy.status, 'healthy');

        status = 503;
        const restart = await events.waitFor('an unhealthy restart', () => events.restarts.find((r) => r.worker_id === 'web' && r.cause === 'unhealthy'));
        assert.equal(restart.cause, 'unhealthy');
        const unhealthy = events.health.find((h) => h.worker_id === 'web' && h.status === 'unhealthy');
        assert.match(unhealthy?.reason ?? '', /503/);

        status = 200;
        await waitForState(master, 'web', 'running');
        const diag = master.getWorkerStateWithDiagnostics('web') as { last_error: { code: string } | null; restart_count: number };
        assert.equal(diag.last_error?.code, 'HSU_ERR_HEALTH_CHECK_FAILED');
        assert.ok(diag.restart_count >= 1);
      });
    } finally {
      await close(server);
    }
  });

  it('tcp: a listening port is healthy; a closed one restarts the worker', async () => {
    const server = createTcpServer((socket) => socket.end());
    const port = await listen(server);
    await withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('tcp', 'ok.mjs', {}, { health_check: { type: 'tcp', port, interval: '50ms', timeout: '1s', failure_threshold: 2 } }));
      await master.startWorker('tcp');
      assert.equal((await master.getWorkerHealth('tcp')).status, 'healthy');

      await close(server);
      const restart = await events.waitFor('an unhealthy restart', () => events.restarts.find((r) => r.worker_id === 'tcp' && r.cause === 'unhealthy'));
      assert.equal(restart.cause, 'unhealthy');
      const unhealthy = events.health.find((h) => h.worker_id === 'tcp' && h.status === 'unhealthy');
      assert.match(unhealthy?.reason ?? '', /ECONNREFUSED/);
    });
  });

  it('asking for health never restarts a worker: only the periodic loop counts failures', async () => {
    await withMaster(async ({ master, events }) => {
      master.addWorker(pluginWorker('sick', 'unhealthy.mjs', {}, { health_check: { interval: '1h', failure_threshold: 2 } }));
      await master.startWorker('sick');
      for (let i = 0; i < 4; i++) assert.equal((await master.getWorkerHealth('sick')).status, 'unhealthy');
      assert.equal(master.getWorkerState('sick'), 'running');
      assert.deepEqual(events.restarts, []);
    });
  });
});
