// The mutations through app.request(): the token, every operation on a real master, and the
// errors: malformed JSON with its position, a body over the limit, invalid configs by key path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ReloadReportBody } from '../../src/api/schemas.js';
import { pluginWorker } from '../helpers/master-helpers.js';
import { TOKEN, echoWorker, withHarness } from './helpers.js';

const T = { timeout: 30_000 };

interface ControlReply {
  changed: boolean;
  worker: { id: string; state: string; pid: number | null };
}

const MUTATIONS: [string, string, unknown?][] = [
  ['POST', '/workers/echo/start'],
  ['POST', '/workers/echo/stop', { force: true }],
  ['POST', '/workers/echo/restart'],
  ['POST', '/workers/echo/scale', { instances: 3 }],
  ['POST', '/workers', { id: 'intruder', type: 'module', module: { module_type: 'native', module_name: 'x' } }],
  ['DELETE', '/workers/echo'],
  ['POST', '/reload'],
  ['POST', '/shutdown', { force: true }],
];

void describe('control API mutations', () => {
  it('no mutation succeeds without the token, or with a wrong one; nothing changes', T, async () => {
    let shutdowns = 0;
    let reloads = 0;
    await withHarness(
      async (h) => {
        h.master.addWorker(echoWorker(h, 'echo'));
        await h.master.startWorker('echo');
        const pid = h.master.getWorkerStateWithDiagnostics('echo').pid;
        for (const token of [false, 'wrong-token-0123456789', `${TOKEN}x`, TOKEN.slice(0, -1)] as const) {
          for (const [method, pathname, body] of MUTATIONS) {
            const response = await h.request(method, pathname, { body, token });
            assert.equal(response.status, 401, `${method} ${pathname} with ${String(token)}`);
            const reply = (await response.json()) as { code: string; message: string };
            assert.equal(reply.code, 'HSU_ERR_API_UNAUTHORIZED');
            assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer/);
            assert.ok(!reply.message.includes(TOKEN), 'the token is never echoed');
          }
        }
        // Other schemes and malformed headers are refused too.
        for (const header of [`Basic ${TOKEN}`, TOKEN, `Bearer`, `Bearer ${TOKEN} extra`]) {
          const response = await h.request('POST', '/workers/echo/restart', { token: false, headers: { authorization: header } });
          assert.equal(response.status, 401, header);
        }
        assert.deepEqual(h.master.listWorkers(), ['echo']);
        assert.equal(h.master.getWorkerStateWithDiagnostics('echo').pid, pid);
        assert.equal(shutdowns + reloads, 0);
      },
      { shutdown: () => void (shutdowns += 1), reload: () => Promise.resolve((reloads += 1) as never) },
    );
  });

  it('scale: up and down in place (the newest go first), idempotent; refused with the reason where the count cannot change', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(pluginWorker('pool', 'ok.mjs', {}, { instances: 2 }));
      h.master.addWorker(pluginWorker('single', 'ok.mjs'));
      h.master.addWorker(pluginWorker('auto', 'ok.mjs', {}, { autoscale: { min: 2, max: 4, metric: 'inflight_per_replica', scale_up_at: 8, scale_down_at: 2 } }));
      await h.master.start();
      type Scaled = ControlReply & { replicas: { id: string; state: string }[] };
      const up = await h.json<Scaled>('POST', '/workers/pool/scale', { body: { instances: 4 } });
      assert.equal(up.status, 200);
      assert.equal(up.body.changed, true);
      assert.deepEqual(up.body.replicas.map((r) => [r.id, r.state]), [['pool#0', 'running'], ['pool#1', 'running'], ['pool#2', 'running'], ['pool#3', 'running']]);
      const same = await h.json<Scaled>('POST', '/workers/pool/scale', { body: { instances: 4 } });
      assert.deepEqual([same.status, same.body.changed], [200, false]);
      const down = await h.json<Scaled>('POST', '/workers/pool/scale', { body: { instances: 2 } });
      assert.deepEqual(down.body.replicas.map((r) => r.id), ['pool#0', 'pool#1']);
      assert.deepEqual(h.master.listReplicas('pool'), ['pool#0', 'pool#1']);
      const refusals: [string, unknown, number, string, RegExp][] = [
        ['single', { instances: 3 }, 409, 'HSU_ERR_API_SCALE_UNSUPPORTED', /one unnumbered instance.*instances:/],
        ['auto', { instances: 3 }, 409, 'HSU_ERR_API_SCALE_UNSUPPORTED', /autoscaled \(2\.\.4 replicas\)/],
        ['pool', { instances: 1 }, 409, 'HSU_ERR_API_SCALE_UNSUPPORTED', /at least 2/],
        ['pool', { instances: 0 }, 400, 'HSU_ERR_API_BAD_REQUEST', /instances/],
        ['pool', { instances: 2.5 }, 400, 'HSU_ERR_API_BAD_REQUEST', /instances/],
        ['pool', {}, 400, 'HSU_ERR_API_BAD_REQUEST', /instances/],
        ['ghost', { instances: 2 }, 404, 'HSU_ERR_WORKER_NOT_FOUND', /ghost/],
      ];
      for (const [id, body, status, code, message] of refusals) {
        const reply = await h.json<{ code: string; message: string; details?: unknown }>('POST', `/workers/${id}/scale`, { body });
        assert.deepEqual([reply.status, reply.body.code], [status, code], `${id} ${JSON.stringify(body)}`);
        assert.match(`${reply.body.message} ${JSON.stringify(reply.body.details ?? {})}`, message);
      }
      assert.deepEqual(h.master.listReplicas('pool'), ['pool#0', 'pool#1'], 'a refused scale changes nothing');
    });
  });

  it('start, stop and restart, idempotent like systemctl; restart changes the pid; --force', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(echoWorker(h, 'echo'));
      const started = await h.json<ControlReply>('POST', '/workers/echo/start');
      assert.equal(started.status, 200);
      assert.deepEqual([started.body.changed, started.body.worker.state], [true, 'running']);
      const again = await h.json<ControlReply>('POST', '/workers/echo/start');
      assert.deepEqual([again.body.changed, again.body.worker.pid], [false, started.body.worker.pid]);
      const restarted = await h.json<ControlReply>('POST', '/workers/echo/restart', { body: { force: false } });
      assert.equal(restarted.body.worker.state, 'running');
      assert.notEqual(restarted.body.worker.pid, started.body.worker.pid);
      const stopped = await h.json<ControlReply & { worker: { last_exit: { forced: boolean; signal: string | null } } }>('POST', '/workers/echo/stop', { body: { force: true } });
      assert.deepEqual([stopped.body.changed, stopped.body.worker.state], [true, 'stopped']);
      assert.equal(stopped.body.worker.last_exit.forced, true);
      assert.equal(stopped.body.worker.last_exit.signal, 'SIGKILL');
      const stoppedAgain = await h.json<ControlReply>('POST', '/workers/echo/stop');
      assert.deepEqual([stoppedAgain.status, stoppedAgain.body.changed], [200, false]);
      const missing = await h.json('POST', '/workers/ghost/restart');
      assert.deepEqual([missing.status, missing.body.code], [404, 'HSU_ERR_WORKER_NOT_FOUND']);
      const unknownKey = await h.json<{ code: string; details: { issues: { path: string }[] } }>('POST', '/workers/echo/start', { body: { force: true } });
      assert.deepEqual([unknownKey.status, unknownKey.body.code, unknownKey.body.details.issues[0]?.path], [400, 'HSU_ERR_API_BAD_REQUEST', 'force']);
    });
  });

  it('a failing start answers with its own code and status', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker({ id: 'bad', type: 'process', execution: { executable_path: '/nonexistent/binary' }, restart: { policy: 'never' } });
      const { status, body } = await h.json('POST', '/workers/bad/start');
      assert.equal(body.code, 'HSU_ERR_EXECUTABLE_NOT_FOUND');
      assert.equal(status, 400);
    });
  });

  it('POST /workers adds and starts a worker validated like a config entry; DELETE stops and removes it', T, async () => {
    await withHarness(async (h) => {
      const added = await h.json<{ id: string; state: string; pid: number }>('POST', '/workers', { body: echoWorker(h, 'late') });
      assert.equal(added.status, 201);
      assert.deepEqual([added.body.id, added.body.state], ['late', 'running']);
      const idle = await h.json<{ state: string }>('POST', '/workers?start=false', { body: pluginWorker('quiet', 'ok.mjs') });
      assert.deepEqual([idle.status, idle.body.state], [201, 'idle']);
      const duplicate = await h.json('POST', '/workers', { body: pluginWorker('quiet', 'ok.mjs') });
      assert.deepEqual([duplicate.status, duplicate.body.code], [409, 'HSU_ERR_WORKER_EXISTS']);
      const invalid = await h.json<{ code: string; details: { issues: { path: string; message: string }[] } }>('POST', '/workers', {
        body: { id: '../etc', type: 'process', stop_timeout: 'soon', execution: { executable_path: 'node', colour: 'blue' } },
      });
      assert.equal(invalid.status, 400);
      assert.equal(invalid.body.code, 'HSU_ERR_CONFIG_INVALID');
      assert.deepEqual(invalid.body.details.issues.map((i) => i.path).sort(), ['execution.colour', 'id', 'stop_timeout']);
      const removed = await h.json('DELETE', '/workers/late');
      assert.deepEqual([removed.status, removed.body], [200, { removed: 'late' }]);
      assert.deepEqual(h.master.listWorkers(), ['quiet']);
      assert.equal((await h.json('DELETE', '/workers/late')).status, 404);
      const forced = await h.json('DELETE', '/workers/quiet?force=true');
      assert.equal(forced.status, 200);
      assert.equal((await h.json('DELETE', '/workers/x?force=maybe')).status, 400);
    });
  });

  it('malformed JSON is a 400 naming the position, also where V8 does not', T, async () => {
    await withHarness(async (h) => {
      h.master.addWorker(pluginWorker('plug', 'ok.mjs'));
      const cases: [string, number, number, number][] = [
        ['{"force": tru}', 13, 1, 14],
        ['{\n  "force": true,\n}', 19, 3, 1],
        ['{"force": true} trailing', 16, 1, 17],
        ['[1, 2', 5, 1, 6],
        ['{"a":"\\q"}', 7, 1, 8],
      ];
      for (const [raw, position, line, column] of cases) {
        const response = await h.request('POST', '/workers/plug/stop', { raw });
        assert.equal(response.status, 400, raw);
        const body = (await response.json()) as { code: string; details: { position: number; line: number; column: number } };
        assert.equal(body.code, 'HSU_ERR_API_BAD_JSON');
        assert.deepEqual([body.details.position, body.details.line, body.details.column], [position, line, column], raw);
      }
      assert.equal(h.master.getWorkerState('plug'), 'idle');
    });
  });

  it('a body over the limit is cut off with 413, declared or streamed', T, async () => {
    await withHarness(
      async (h) => {
        const big = JSON.stringify({ id: 'big', type: 'module', module: { module_type: 'native', module_name: 'x'.repeat(8_000) } });
        const declared = await h.request('POST', '/workers', { raw: big });
        assert.equal(declared.status, 413);
        assert.equal(((await declared.json()) as { code: string }).code, 'HSU_ERR_API_BODY_TOO_LARGE');
        let pulled = 0;
        const endless = new ReadableStream<Uint8Array>({
          pull(controller) {
            pulled += 1;
            controller.enqueue(new Uint8Array(1024).fill(0x20));
          },
        });
        const streamed = await h.request('POST', '/workers', { raw: endless });
        assert.equal(streamed.status, 413);
        // Over a real socket the kernel's buffers take a few megabytes before the refusal cuts the connection; unread, the body would go on forever.
        assert.ok(pulled < 32_768, `the upload was cut off after the limit (${pulled} chunks of 1 KiB)`);
        assert.deepEqual(h.master.listWorkers(), []);
      },
      {},
      { maxBodyBytes: 4096 },
    );
  });

  it('reload and shutdown go to the host; without one they are 409', T, async () => {
    const report: ReloadReportBody = { ok: true, file: '/x.yaml', added: [], removed: [], changed: [], reconfigured: [], unchanged: ['a'], errors: [], warnings: [], duration_ms: 1 };
    const shutdowns: boolean[] = [];
    await withHarness(
      async (h) => {
        const reloaded = await h.json('POST', '/reload');
        assert.deepEqual([reloaded.status, reloaded.body], [200, report]);
        const down = await h.json('POST', '/shutdown', { body: { force: true } });
        assert.deepEqual([down.status, down.body], [202, { shutting_down: true, pid: process.pid, forced: true, process_exits: true }]);
        assert.deepEqual(shutdowns, [true]);
      },
      { reload: () => Promise.resolve(report), shutdown: (force) => void shutdowns.push(force) },
    );
    await withHarness(async (h) => {
      assert.equal((await h.json('POST', '/reload')).body.code, 'HSU_ERR_API_RELOAD_UNAVAILABLE');
      const down = await h.json('POST', '/shutdown');
      assert.deepEqual([down.status, down.body.code], [409, 'HSU_ERR_API_SHUTDOWN_UNAVAILABLE']);
    });
  });

  it('a reload refused for an invalid file answers 400 with every issue', T, async () => {
    const { hsuError } = await import('../../src/errors.js');
    const issues = [{ file: '/x.yaml', line: 4, column: 5, path: 'workers[0].stop_timeout', message: 'expected a duration' }];
    await withHarness(
      async (h) => {
        const { status, body } = await h.json<{ code: string; details: { issues: unknown[] } }>('POST', '/reload');
        assert.equal(status, 400);
        assert.equal(body.code, 'HSU_ERR_CONFIG_INVALID');
        assert.deepEqual(body.details.issues, issues);
      },
      { reload: () => Promise.reject(hsuError('CONFIG_INVALID', 'reload refused', { file: '/x.yaml', issues })) },
    );
  });

  it('a listener other machines reach needs the token for reads too; a loopback one checks the Host header', T, async () => {
    await withHarness(
      async (h) => {
        assert.equal((await h.json('GET', '/', { token: false })).status, 401);
        assert.equal((await h.json('GET', '/workers', { token: false })).status, 401);
        assert.equal((await h.json('GET', '/')).status, 200);
      },
      {},
      { readsNeedToken: true },
    );
    await withHarness(
      async (h) => {
        const good = await h.getWithHost('/', '127.0.0.1:9900');
        assert.equal(good.status, 200);
        const rebound = await h.getWithHost('/workers', 'evil.example:9900');
        assert.equal(rebound.status, 400);
        assert.equal(rebound.body.code, 'HSU_ERR_API_BAD_REQUEST');
      },
      {},
      { allowedHosts: ['127.0.0.1:9900', 'localhost:9900'] },
    );
  });
});
