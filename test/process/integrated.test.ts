// Integrated workers (management: integrated): the master assigns a loopback port, hands it over by
// environment variable or `{port}` in the arguments, and the worker is running only once its
// readiness probe passes. Real HTTP servers on 127.0.0.1, no timing assertions.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { diagnostics, processesWithMarker, rejectsWithCode, waitForMarkerGone, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import type { WorkerConfigInput } from '../../src/index.js';
import { canConnect, freePort, ownCgroups, processFixture } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

function server(t: TestMaster, id: string, extra: Record<string, unknown> = {}, env: Record<string, string> = {}, args: string[] = []): WorkerConfigInput {
  return {
    id,
    type: 'process',
    management: 'integrated',
    start_timeout: '10s',
    execution: { executable_path: process.execPath, args: [processFixture('http-server.mjs'), ...args], environment: { HSU_TEST_MARKER: t.marker, ...env } },
    ...extra,
  } as WorkerConfigInput;
}

async function get(url: string): Promise<string> {
  const response = await fetch(url);
  return response.text();
}

void describe('integrated workers', () => {
  void it('is running only once the default tcp readiness probe connects to the assigned $PORT', () =>
    withMaster(async (t) => {
      // The server listens only after a while: a start that did not wait would be running before it.
      t.master.addWorker(server(t, 'web', {}, { LISTEN_DELAY_MS: '700' }));
      await t.master.startWorker('web');
      const d = diagnostics(t.master, 'web');
      assert.equal(d.state, 'running');
      const port = d.details.port as number;
      assert.equal(typeof port, 'number');
      assert.ok(await canConnect(port), 'running, so the port must accept connections');
      assert.equal(d.details.host, '127.0.0.1');
      const endpoint = t.master.getWorkerStateWithDiagnostics('web').endpoint;
      assert.equal(endpoint?.address, `http://127.0.0.1:${port}`);
      // The process itself answers on that port: the port reached it through $PORT.
      assert.equal(await get(`http://127.0.0.1:${port}/`), `ok ${d.pid}`);
      assert.deepEqual(t.events.transitions('web'), ['idle->starting', 'starting->running']);
    }));

  void it('hands the port over through {port} in the arguments', () =>
    withMaster(async (t) => {
      // Another variable carries it, so the server can only have it from its argv.
      t.master.addWorker(server(t, 'argweb', { integration: { port_env: 'UNUSED_PORT' } }, {}, ['--port', '{port}']));
      await t.master.startWorker('argweb');
      const d = diagnostics(t.master, 'argweb');
      const port = d.details.port as number;
      assert.equal(await get(`http://127.0.0.1:${port}/`), `ok ${d.pid}`);
    }));

  void it('with an http readiness probe, waits through 503s until /ready answers 2xx', () =>
    withMaster(async (t) => {
      t.master.addWorker(server(t, 'api', { readiness: { type: 'http', url: 'http://127.0.0.1:{port}/ready', interval: '100ms', timeout: '1s' } }, { READY_FAIL_FIRST: '3' }));
      await t.master.startWorker('api');
      const port = diagnostics(t.master, 'api').details.port as number;
      // Three 503s, then the 200 that made it running, and not one probe more.
      assert.equal(await get(`http://127.0.0.1:${port}/hits`), '4');
    }));

  void it('a server that never listens fails the start with START_TIMEOUT naming the readiness reason, leaving nothing running', () =>
    withMaster(async (t) => {
      t.master.addWorker(server(t, 'mute', { start_timeout: '1500ms', restart: { policy: 'never' } }, { NEVER_LISTEN: '1' }));
      const error = await rejectsWithCode(t.master.startWorker('mute'), 'HSU_ERR_START_TIMEOUT');
      assert.match(String(error.context.readiness), /connect 127\.0\.0\.1:\d+ failed/);
      assert.match(error.message, /not ready/);
      assert.equal(t.master.getWorkerState('mute'), 'failed_start');
      assert.deepEqual(await waitForMarkerGone(t.marker), [], 'the server process must have been ended');
    }));

  void it('a restart gets a new free port, probed and handed over again', () =>
    withMaster(async (t) => {
      t.master.addWorker(server(t, 'web'));
      await t.master.startWorker('web');
      const first = diagnostics(t.master, 'web');
      await t.master.restartWorker('web');
      const second = diagnostics(t.master, 'web');
      assert.notEqual(second.pid, first.pid);
      assert.notEqual(second.details.port, first.details.port);
      assert.equal(t.master.getWorkerStateWithDiagnostics('web').endpoint?.address, `http://127.0.0.1:${String(second.details.port)}`);
      assert.equal(await get(`http://127.0.0.1:${String(second.details.port)}/`), `ok ${second.pid}`);
      assert.equal(await canConnect(first.details.port as number), false, 'the old port is closed with the old process');
    }));

  void it('an exec probe of an integrated worker gets its port as {port} and $PORT', () =>
    withMaster(async (t) => {
      // Both probes reach the server only if the placeholder and the variable carry the assigned port.
      const fetchBy = (url: string): string[] => [process.execPath, '-e', `fetch(${url}).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(2))`];
      t.master.addWorker(
        server(t, 'web', {
          readiness: { type: 'exec', command: fetchBy("'http://127.0.0.1:{port}/'"), interval: '100ms', timeout: '2s' },
          health_check: { type: 'exec', command: fetchBy('`http://127.0.0.1:${process.env.PORT}/`'), interval: '100ms', timeout: '2s' },
        }),
      );
      await t.master.startWorker('web');
      const healthy = await t.events.waitFor('healthy', () => t.events.health.find((e) => e.worker_id === 'web' && e.status === 'healthy'));
      assert.equal(healthy.consecutive_successes, 1);
    }));

  void it('a fixed port held by another process: the worker cannot listen, and the squatter does not make it ready', async () => {
    const squatter = http.createServer((_req, res) => res.end('squatter'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      await withMaster(async (t) => {
        t.master.addWorker(server(t, 'web', { integration: { port }, restart: { policy: 'never' }, start_timeout: '3s' }));
        // Refused before a spawn, with the reason: a start that took the squatter's answer for the
        // worker's would report it running.
        const error = await rejectsWithCode(t.master.startWorker('web'), 'HSU_ERR_PORT_IN_USE');
        assert.match(error.message, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`));
        assert.deepEqual(processesWithMarker(t.marker), [], 'nothing was spawned');
        assert.equal(await get(`http://127.0.0.1:${port}/`), 'squatter', 'the squatter is not disturbed');
        assert.equal(
          t.events.states.some((e) => e.worker_id === 'web' && e.to === 'running'),
          false,
          `never running on a port it does not hold: ${t.events.transitions('web').join(', ')}`,
        );
      });
    } finally {
      squatter.closeAllConnections();
      await new Promise((resolve) => squatter.close(resolve));
    }
  });

  void it('uses a fixed integration.port as given', async () => {
    const fixed = await freePort();
    await withMaster(async (t) => {
      t.master.addWorker(server(t, 'fixed', { integration: { port: fixed } }));
      await t.master.startWorker('fixed');
      const d = diagnostics(t.master, 'fixed');
      assert.equal(d.details.port, fixed);
      assert.equal(t.master.getWorkerStateWithDiagnostics('fixed').endpoint?.address, `http://127.0.0.1:${fixed}`);
      assert.equal(await get(`http://127.0.0.1:${fixed}/`), `ok ${d.pid}`);
      assert.equal(processesWithMarker(t.marker).length, 1);
    });
  });
});
