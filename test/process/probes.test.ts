// Every probe type against real servers on loopback (http, tcp, grpc.health.v1, exec, runtime),
// and the thresholds: failure_threshold consecutive failures make a worker unhealthy and restart it
// by policy (cause unhealthy); success_threshold consecutive successes before healthy. Order of
// events and outcomes only, never durations.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { diagnostics, nodeWorker, pluginWorker, withMaster, type TestMaster } from '../helpers/master-helpers.js';
import type { HealthSnapshot } from '../../src/lifecycle/health-watchdog.js';
import { clientConnectionsTo, freePort, ownCgroups, pidsWithCmdline, until } from './support.js';
import { grpcHealthServer, scriptedHttp } from './servers.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

/** A plain process worker watched by `health_check`; thresholds high enough that a verdict never restarts it. */
function probed(t: TestMaster, check: Record<string, unknown>, id = 'w') {
  return nodeWorker(t, id, 'forever.mjs', [], { health_check: { interval: '100ms', timeout: '1s', failure_threshold: 1000, ...check } });
}

function health(t: TestMaster, id = 'w'): HealthSnapshot {
  return diagnostics(t.master, id).health as unknown as HealthSnapshot;
}

/** Waits for `n` consecutive results of one kind and returns the snapshot. */
function streak(t: TestMaster, kind: 'ok' | 'fail', n = 2, id = 'w'): Promise<HealthSnapshot> {
  return until(`${n} consecutive ${kind} results`, () => {
    const h = health(t, id);
    return (kind === 'ok' ? h.consecutive_successes : h.consecutive_failures) >= n ? h : undefined;
  });
}

async function verdict(check: Record<string, unknown>, kind: 'ok' | 'fail'): Promise<HealthSnapshot> {
  let seen: HealthSnapshot | undefined;
  await withMaster(async (t) => {
    t.master.addWorker(probed(t, check));
    await t.master.startWorker('w');
    seen = await streak(t, kind);
    // The other kind never happened in between.
    assert.equal(kind === 'ok' ? seen.consecutive_failures : seen.consecutive_successes, 0);
    assert.equal(typeof seen.latency_ms, 'number');
    assert.notEqual(seen.checked_at, null);
  });
  return seen as HealthSnapshot;
}

void describe('http probe', () => {
  void it('2xx is healthy; 500 is a failure naming the status', async () => {
    const server = await scriptedHttp((n) => ({ status: n > 0 ? 200 : 500 }));
    const broken = await scriptedHttp(() => ({ status: 500 }));
    try {
      assert.equal((await verdict({ type: 'http', url: `http://127.0.0.1:${server.port}/health` }, 'ok')).status, 'healthy');
      const bad = await verdict({ type: 'http', url: `http://127.0.0.1:${broken.port}/health` }, 'fail');
      assert.match(bad.reason ?? '', /answered 500/);
    } finally {
      await server.close();
      await broken.close();
    }
  });

  void it('expect_body: healthy when the body contains it, a failure naming it when not', async () => {
    const server = await scriptedHttp(() => ({ status: 200, body: '{"db":"up","cache":"up"}' }));
    try {
      await verdict({ type: 'http', url: `http://127.0.0.1:${server.port}/`, expect_body: '"db":"up"' }, 'ok');
      const bad = await verdict({ type: 'http', url: `http://127.0.0.1:${server.port}/`, expect_body: '"queue":"up"' }, 'fail');
      assert.match(bad.reason ?? '', /does not contain/);
      assert.match(bad.reason ?? '', /queue/);
    } finally {
      await server.close();
    }
  });
});

void describe('tcp probe', () => {
  void it('a listening port is healthy, a port nobody listens on fails with the refusal', async () => {
    const server = await scriptedHttp(() => ({ status: 200 }));
    const nobody = await freePort();
    try {
      await verdict({ type: 'tcp', port: server.port }, 'ok');
      const bad = await verdict({ type: 'tcp', port: nobody }, 'fail');
      assert.match(bad.reason ?? '', new RegExp(`connect 127\\.0\\.0\\.1:${nobody} failed: .*ECONNREFUSED`));
    } finally {
      await server.close();
    }
  });
});

void describe('grpc probe (grpc.health.v1)', () => {
  void it('SERVING is healthy; NOT_SERVING, an unknown service and a server that is down are failures with their reason', async () => {
    const server = await grpcHealthServer({ '': 'SERVING', 'hsu.Up': 'SERVING', 'hsu.Down': 'NOT_SERVING' });
    const down = await freePort();
    try {
      await verdict({ type: 'grpc', port: server.port }, 'ok');
      await verdict({ type: 'grpc', port: server.port, service: 'hsu.Up' }, 'ok');
      const notServing = await verdict({ type: 'grpc', port: server.port, service: 'hsu.Down' }, 'fail');
      assert.match(notServing.reason ?? '', /NOT_SERVING/);
      assert.match(notServing.reason ?? '', /hsu\.Down/);
      const unknown = await verdict({ type: 'grpc', port: server.port, service: 'hsu.Nobody' }, 'fail');
      assert.match(unknown.reason ?? '', /NOT_FOUND/);
      const gone = await verdict({ type: 'grpc', port: down, timeout: '500ms' }, 'fail');
      assert.match(gone.reason ?? '', /Health\/Check failed/);
    } finally {
      await server.close();
    }
  });

  void it('follows the server: SERVING -> NOT_SERVING turns the worker unhealthy, with an event', () =>
    withMaster(async (t) => {
      const server = await grpcHealthServer({ '': 'SERVING' });
      try {
        t.master.addWorker(nodeWorker(t, 'g', 'forever.mjs', [], { restart: { policy: 'never' }, health_check: { type: 'grpc', port: server.port, interval: '100ms', timeout: '1s', failure_threshold: 2 } }));
        await t.master.startWorker('g');
        await t.events.waitFor('healthy', () => t.events.health.find((e) => e.worker_id === 'g' && e.status === 'healthy'));
        server.health.setStatus('', 'NOT_SERVING');
        const event = await t.events.waitFor('unhealthy', () => t.events.health.find((e) => e.worker_id === 'g' && e.status === 'unhealthy'));
        assert.equal(event.consecutive_failures, 2);
        assert.match(event.reason ?? '', /NOT_SERVING/);
      } finally {
        await server.close();
      }
    }));
});

void describe('exec probe', () => {
  void it('exit 0 is healthy; exit 1 is a failure quoting its output', async () => {
    await verdict({ type: 'exec', command: 'exit 0' }, 'ok');
    await verdict({ type: 'exec', command: ['/bin/true'] }, 'ok');
    const bad = await verdict({ type: 'exec', command: 'echo "disk is full"; exit 1' }, 'fail');
    assert.match(bad.reason ?? '', /exited with code 1/);
    assert.match(bad.reason ?? '', /disk is full/);
  });

  void it('a command that hangs is killed with its whole process group at the timeout', () =>
    withMaster(async (t) => {
      // A unique sleep duration tags every process the probe starts (sh, a background sleep, a foreground sleep).
      const tag = `777.${process.pid}${Date.now() % 100_000}`;
      t.master.addWorker(probed(t, { type: 'exec', command: `sleep ${tag} & sleep ${tag}`, interval: '200ms', timeout: '300ms' }));
      await t.master.startWorker('w');
      const firstRound = await until('the first probe running', () => {
        const pids = pidsWithCmdline(`sleep ${tag}`);
        return pids.length >= 3 ? pids : undefined; // sh -c, the background sleep, the foreground sleep
      });
      const failed = await streak(t, 'fail', 1);
      assert.match(failed.reason ?? '', /timed out after 300 ms/);
      // Every process of that round is gone, the background one included (it was in the group).
      await until('the first round gone', () => firstRound.every((pid) => !pidsWithCmdline(`sleep ${tag}`).includes(pid)));
      await t.master.stopWorker('w');
      await until('no probe process left after the stop', () => pidsWithCmdline(`sleep ${tag}`).length === 0);
    }));
});

void describe('runtime probe', () => {
  void it("a live process is healthy; a module's isHealthy() false is unhealthy and restarts it by policy", () =>
    withMaster(async (t) => {
      t.master.addWorker(probed(t, { type: 'runtime' }, 'proc'));
      t.master.addWorker(pluginWorker('mod', 'unhealthy.mjs', {}, { health_check: { type: 'runtime', interval: '100ms', timeout: '1s', failure_threshold: 2 } }));
      await t.master.startWorker('proc');
      await t.master.startWorker('mod');
      await streak(t, 'ok', 2, 'proc');
      const restart = await t.events.waitFor('restart of mod', () => t.events.restarts.find((e) => e.worker_id === 'mod'));
      assert.equal(restart.cause, 'unhealthy');
      const unhealthy = t.events.health.find((e) => e.worker_id === 'mod' && e.status === 'unhealthy');
      assert.match(unhealthy?.reason ?? '', /worker reports unhealthy/);
    }));
});

void describe('probe connections end with the instance', () => {
  /** Runs a probed worker for a few probes, stops it, and waits for the probe's connections to `port` to end. */
  async function connectionsAfterStop(check: Record<string, unknown>, port: number): Promise<number> {
    let left = -1;
    await withMaster(async (t) => {
      t.master.addWorker(probed(t, check));
      await t.master.startWorker('w');
      await streak(t, 'ok', 3);
      await t.master.stopWorker('w');
      await until('no probe connection left', () => clientConnectionsTo(port) === 0, 5_000).catch(() => undefined);
      left = clientConnectionsTo(port);
    });
    return left;
  }

  void it('tcp and grpc probes leave no connection open once the worker is stopped', async () => {
    const tcp = await scriptedHttp(() => ({ status: 200 }));
    const grpc = await grpcHealthServer({ '': 'SERVING' });
    try {
      assert.equal(await connectionsAfterStop({ type: 'tcp', port: tcp.port }, tcp.port), 0);
      assert.equal(await connectionsAfterStop({ type: 'grpc', port: grpc.port }, grpc.port), 0);
    } finally {
      await tcp.close();
      await grpc.close();
    }
  });

  void it('an http probe leaves no connection open once the worker is stopped (a keep-alive server)', async () => {
    // The server keeps idle connections for a minute, as many do: a probe must close its own.
    const server = await scriptedHttp(() => ({ status: 200 }), 60_000);
    try {
      const left = await connectionsAfterStop({ type: 'http', url: `http://127.0.0.1:${server.port}/health` }, server.port);
      assert.equal(left, 0, `the probe's connection to the server outlived the stopped worker (${left} open)`);
    } finally {
      await server.close();
    }
  });
});

void describe('thresholds', () => {
  void it('success_threshold successes before healthy, failure_threshold failures before unhealthy, then a restart with cause unhealthy', () =>
    withMaster(async (t) => {
      // hit:1 200, hit:2 500, hit:3 200, hit:4 200 (2nd success in a row: healthy), hit:5-7 500 (3rd failure: unhealthy), then 200.
      const script = [200, 500, 200, 200, 500, 500, 500];
      const server = await scriptedHttp((n) => ({ status: script[n - 1] ?? 200 }));
      try {
        t.master.on('health', (e) => server.log.push(`event:${e.status}`));
        let causeAtRestart: string | null | undefined;
        t.master.on('restart', (e) => {
          server.log.push(`restart:${e.cause}`);
          causeAtRestart = t.master.getWorkerStateWithDiagnostics('w').stop_cause;
        });
        t.master.addWorker(
          nodeWorker(t, 'w', 'forever.mjs', [], {
            restart: { policy: 'on-failure', backoff: { initial: '300ms', max: '300ms', jitter: 0 } },
            health_check: { type: 'http', url: `http://127.0.0.1:${server.port}/`, interval: '100ms', timeout: '1s', failure_threshold: 3, success_threshold: 2 },
          }),
        );
        await t.master.startWorker('w');
        const firstPid = diagnostics(t.master, 'w').pid;
        const restart = await t.events.waitFor('the restart', () => t.events.restarts.find((e) => e.worker_id === 'w'));
        assert.equal(restart.cause, 'unhealthy');
        const log = server.log;
        const at = (entry: string): number => log.indexOf(entry);
        assert.ok(at('event:healthy') > at('hit:4:200'), `healthy only after the 2nd success in a row: ${log.join(' ')}`);
        assert.ok(at('event:healthy') !== -1 && !log.slice(0, at('hit:4:200')).includes('event:healthy'), log.join(' '));
        assert.ok(at('event:unhealthy') > at('hit:7:500'), `unhealthy only after the 3rd failure in a row: ${log.join(' ')}`);
        assert.ok(at('restart:unhealthy') > at('event:unhealthy'), log.join(' '));
        const unhealthy = t.events.health.find((e) => e.status === 'unhealthy');
        assert.equal(unhealthy?.consecutive_failures, 3);
        assert.equal(t.events.health.find((e) => e.status === 'healthy')?.consecutive_successes, 2);
        // The restarted instance is a new process, the stop's cause is on record.
        await t.events.state('w', 'running', 2);
        const d = t.master.getWorkerStateWithDiagnostics('w');
        assert.notEqual(d.pid, firstPid);
        assert.equal(causeAtRestart, 'unhealthy', 'diagnostics name the cause while the restart is pending');
        // stop_cause is cleared by the new start; the history keeps why the old instance was stopped.
        assert.ok(d.history.some((h) => h.to === 'stopping' && h.cause === 'unhealthy'), JSON.stringify(d.history));
        assert.equal(d.last_error?.code, 'HSU_ERR_HEALTH_CHECK_FAILED');
        const stopping = t.events.states.find((e) => e.worker_id === 'w' && e.to === 'stopping');
        assert.equal(stopping?.cause, 'unhealthy');
        // Healthy again on the new instance (every change is one event: healthy, unhealthy, healthy).
        await t.events.waitFor('healthy again', () => (t.events.health.filter((e) => e.worker_id === 'w').length >= 3 ? true : undefined));
        assert.deepEqual(
          t.events.health.filter((e) => e.worker_id === 'w').map((e) => e.status),
          ['healthy', 'unhealthy', 'healthy'],
        );
        // Diagnostics carry the last result, its latency and the streak.
        const snapshot = health(t);
        assert.equal(snapshot.status, 'healthy');
        assert.equal(typeof snapshot.latency_ms, 'number');
        assert.ok(snapshot.consecutive_successes >= 2 && snapshot.consecutive_failures === 0, JSON.stringify(snapshot));
      } finally {
        await server.close();
      }
    }));
});
