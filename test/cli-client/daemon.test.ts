// Every client command of the real `hsu` binary against a real daemon started by `hsu run -d`:
// ls, status, start/stop/restart, scale, logs (-n, -f), events, reload (add, change, remove, an invalid
// file, SIGHUP), shutdown, with and without --json; no master; a wrong token.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { isAlive } from '../../src/os/proc.js';
import { Running, RECONFIGURABLE, createProject, echoEntry, hsu, moduleEntry, sessionOf, withProject, type Project } from './helpers.js';

const T = { timeout: 90_000 };

interface Worker {
  id: string;
  state: string;
  pid: number | null;
  runtime: string;
}

async function workers(p: Project): Promise<Worker[]> {
  return (await p.json<{ workers: Worker[] }>('ls')).workers;
}

async function pidOf(p: Project, id: string): Promise<number> {
  const found = (await workers(p)).find((w) => w.id === id);
  assert.ok(found?.pid !== null && found?.pid !== undefined, `${id} has a pid`);
  return found.pid;
}

async function started(p: Project, json = false): Promise<void> {
  const result = json ? await p.hsu('run', '-d', 'hsu.yaml', '--json') : await p.hsu('run', '-d', 'hsu.yaml');
  assert.equal(result.code, 0, `run -d: ${result.err}`);
  if (!json) assert.match(result.out, /master running in the background \(pid \d+\)/);
  else assert.deepEqual(Object.keys(JSON.parse(result.out) as object), ['ok', 'pid', 'state_dir', 'log_file', 'workers', 'failed']);
}

void describe('hsu run -d', () => {
  it('starts the master in its own session with a pid file and a log; refuses a second one naming its pid', T, async () => {
    await withProject(async (p) => {
      p.write(echoEntry('echo', p.marker));
      await started(p);
      const pid = p.masterPid();
      assert.ok(isAlive(pid));
      assert.equal(sessionOf(pid), pid, 'a session leader: no terminal, no SIGHUP from the shell');
      const log = readFileSync(path.join(p.stateDir, 'master.log'), 'utf8');
      assert.ok(log.includes('"msg":"master running"'));
      assert.ok(log.includes('"msg":"control API listening"'));
      const token = readFileSync(path.join(p.stateDir, 'api.token'), 'utf8').trim();
      assert.ok(token.length >= 40 && !log.includes(token), 'the token is never logged');
      assert.equal(statSync(path.join(p.stateDir, 'api.token')).mode & 0o777, 0o600);
      const second = await p.hsu('run', '-d', 'hsu.yaml');
      assert.equal(second.code, 1);
      assert.match(second.err, new RegExp(`already running on .* \\(pid ${pid}\\)`));
      assert.match(second.err, /HSU_ERR_STATE_DIR_IN_USE/);
      assert.ok(isAlive(pid), 'the running one is untouched');
      // API settings are read at start: a reload says they wait for a restart.
      p.write(echoEntry('echo', p.marker), '  api:\n    max_body_bytes: 4096\n');
      const reload = await p.hsu('reload');
      assert.equal(reload.code, 0, reload.err);
      assert.match(reload.err, /warning: master\.api changed; it takes effect when the master is restarted/);
    });
  });

  it('exits 1 with the reason when the daemon cannot start, and leaves nothing running', T, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      await withProject(async (p) => {
        p.write(echoEntry('echo', p.marker), `  api:\n    listen: 127.0.0.1:${port}\n`);
        const result = await p.hsu('run', '-d', 'hsu.yaml');
        assert.equal(result.code, 1);
        assert.match(result.err, /the master did not start/);
        assert.match(result.err, /EADDRINUSE|another program listens there/);
        assert.equal(existsSync(path.join(p.stateDir, 'api.json')), false);
        const invalid = createProject();
        try {
          invalid.write('  - id: x\n    type: banana\n');
          const refused = await invalid.hsu('run', '-d', 'hsu.yaml');
          assert.equal(refused.code, 1);
          assert.match(refused.err, /hsu\.yaml:3:11/, 'config problems print at once, with their line');
          assert.equal(existsSync(invalid.stateDir), false, 'no daemon was started');
          invalid.write(echoEntry('echo', invalid.marker), '  api:\n    enabled: false\n');
          const unreachable = await invalid.hsu('run', '-d', 'hsu.yaml');
          assert.equal(unreachable.code, 1);
          assert.match(unreachable.err, /HSU_ERR_API_CONFIG_INVALID/);
        } finally {
          await invalid.dispose();
        }
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

void describe('hsu client commands', () => {
  it('ls, status: a table on a terminal, TSV in a pipe, JSON with --json; found through --state-dir and HSU_STATE_DIR too', T, async () => {
    await withProject(async (p) => {
      p.write(`${echoEntry('echo', p.marker)}${moduleEntry('mod', RECONFIGURABLE, '{ a: 1 }')}`);
      await started(p);
      const ls = await p.hsu('ls');
      assert.equal(ls.code, 0, ls.err);
      const [header, ...rows] = ls.out.trim().split('\n');
      assert.equal(header, ['id', 'type', 'deployment', 'state', 'health', 'pid', 'uptime', 'restarts', 'cpu', 'memory'].join('\t'));
      assert.deepEqual(
        rows.map((r) => r.split('\t').slice(0, 4)),
        [
          ['echo', 'process', 'process', 'running'],
          ['mod', 'module', 'inline', 'running'],
        ],
      );
      assert.ok(!ls.out.includes('\u001b['), 'no colour in a pipe');
      const listed = await workers(p);
      assert.deepEqual(
        listed.map((w) => [w.id, w.state, w.runtime]),
        [
          ['echo', 'running', 'process'],
          ['mod', 'running', 'inline'],
        ],
      );
      const elsewhere = path.dirname(p.dir);
      const byFlag = await hsu(['ls', '--state-dir', p.stateDir, '--json'], { cwd: elsewhere });
      assert.equal(JSON.parse(byFlag.out).workers.length, 2);
      const byEnv = await hsu(['ls', '--json'], { cwd: elsewhere, env: { HSU_STATE_DIR: p.stateDir } });
      assert.equal(JSON.parse(byEnv.out).workers.length, 2);
      const status = await p.hsu('status', 'echo');
      assert.equal(status.code, 0);
      assert.match(status.out, /^echo\n/);
      assert.match(status.out, /state\s+running/);
      assert.match(status.out, /recent transitions\n.*idle -> starting/);
      const statusJson = await p.json<{ id: string; history: unknown[] }>('status', 'echo');
      assert.deepEqual([statusJson.id, statusJson.history.length], ['echo', 2]);
      const missing = await p.hsu('status', 'ghost');
      assert.equal(missing.code, 1);
      assert.equal(missing.err.trim().split('\n').length, 1);
      assert.match(missing.err, /HSU_ERR_WORKER_NOT_FOUND/);
    });
  });

  it('start, stop, restart: one id, several, all; --force; the exit code says if any failed', T, async () => {
    await withProject(async (p) => {
      p.write(`${echoEntry('a', p.marker)}${echoEntry('b', p.marker)}`);
      await started(p);
      const a = await pidOf(p, 'a');
      const restart = await p.hsu('restart', 'a');
      assert.equal(restart.code, 0, restart.err);
      assert.match(restart.out, /^a: running \(pid \d+\)\n$/);
      assert.notEqual(await pidOf(p, 'a'), a);
      const stopAll = await p.hsu('stop', 'all', '--force');
      assert.equal(stopAll.code, 0);
      assert.deepEqual(stopAll.out.trim().split('\n'), ['b: stopped', 'a: stopped'], 'all stops in reverse order');
      assert.deepEqual((await workers(p)).map((w) => w.state), ['stopped', 'stopped']);
      const again = await p.hsu('stop', 'a');
      assert.deepEqual([again.code, again.out], [0, 'a: already stopped\n']);
      const startJson = await p.hsu('start', 'a', 'ghost', 'b', '--json');
      assert.equal(startJson.code, 1);
      const lines = startJson.out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; ok: boolean; state?: string; error?: { code: string } });
      assert.deepEqual(
        lines.map((l) => [l.id, l.ok, l.state ?? l.error?.code]),
        [
          ['a', true, 'running'],
          ['ghost', false, 'HSU_ERR_WORKER_NOT_FOUND'],
          ['b', true, 'running'],
        ],
      );
      const wrongToken = await hsu(['restart', 'a'], { cwd: p.dir, env: { HSU_TOKEN: 'not-the-token-at-all' } });
      assert.equal(wrongToken.code, 1);
      assert.match(wrongToken.err, /HSU_ERR_API_UNAUTHORIZED/);
    });
  });

  it('scale: a worker with replicas grows and shrinks, the highest-numbered first, numbers reused; refused with the reason; kept by a reload until the file’s count changes', T, async () => {
    await withProject(async (p) => {
      p.write(`${echoEntry('pool', p.marker)}    instances: 2\n${echoEntry('solo', p.marker)}`);
      await started(p);
      const up = await p.hsu('scale', 'pool', '4');
      assert.equal(up.code, 0, up.err);
      assert.match(up.out, /^pool: 4 replicas\n {2}pool#0: running \(pid \d+\)\n(?: {2}pool#\d: running \(pid \d+\)\n){3}$/);
      const ids = async (): Promise<string[]> => (await workers(p)).map((w) => w.id).filter((id) => id.startsWith('pool'));
      assert.deepEqual(await ids(), ['pool#0', 'pool#1', 'pool#2', 'pool#3']);
      const down = await p.hsu('scale', 'pool', '3', '--json');
      assert.equal(down.code, 0, down.err);
      const reply = JSON.parse(down.out) as { ok: boolean; changed: boolean; instances: number; replicas: { id: string }[] };
      assert.deepEqual([reply.ok, reply.changed, reply.instances, reply.replicas.map((r) => r.id)], [true, true, 3, ['pool#0', 'pool#1', 'pool#2']]);
      const same = await p.hsu('scale', 'pool', '3');
      assert.match(same.out, /^pool: already 3 replicas\n/);
      const solo = await p.hsu('scale', 'solo', '2');
      assert.equal(solo.code, 1);
      assert.match(solo.err, /one unnumbered instance.*\(HSU_ERR_API_SCALE_UNSUPPORTED\)/);
      for (const bad of [['scale', 'pool'], ['scale', 'pool', 'x'], ['scale', 'pool', '0'], ['scale', 'pool', '2', '3']]) {
        const usage = await p.hsu(...bad);
        assert.equal(usage.code, 1, bad.join(' '));
        assert.match(usage.err, /scale needs a worker id and a replica count/);
      }
      // A reload applies what changed in the file: the count set at run time stays until the file's does.
      const reload = await p.hsu('reload');
      assert.equal(reload.code, 0, reload.err);
      assert.deepEqual(await ids(), ['pool#0', 'pool#1', 'pool#2']);
      p.write(`${echoEntry('pool', p.marker)}    instances: 5\n${echoEntry('solo', p.marker)}`);
      const grown = await p.hsu('reload');
      assert.equal(grown.code, 0, grown.err);
      assert.deepEqual(await ids(), ['pool#0', 'pool#1', 'pool#2', 'pool#3', 'pool#4']);
    });
  });

  it('logs -n tails stdout to stdout and stderr to stderr; logs -f follows new lines until Ctrl-C', T, async () => {
    await withProject(async (p) => {
      p.write(echoEntry('echo', p.marker));
      await started(p);
      const pid = await pidOf(p, 'echo');
      const follow = new Running(['logs', 'echo', '-f', '-n', '5'], p.dir);
      await follow.until('the tail', (out) => out.includes('ready\n'));
      process.kill(pid, 'SIGUSR2');
      await follow.until('the live lines', (out, err) => out.includes('ping 1\n') && err.includes('pong 1\n'));
      process.kill(pid, 'SIGUSR2');
      await follow.until('the second ping', (out) => out.includes('ping 2\n'));
      assert.equal(await follow.stop('SIGINT'), 0);
      const tail = await p.hsu('logs', 'echo', '-n', '2');
      assert.deepEqual([tail.code, tail.out, tail.err], [0, 'ping 1\nping 2\n', 'pong 1\npong 2\n']);
      const json = await p.hsu('logs', 'echo', '-n', '1', '--json');
      assert.deepEqual(
        json.out.trim().split('\n').map((l) => JSON.parse(l) as unknown),
        [
          { stream: 'stdout', line: 'ping 2' },
          { stream: 'stderr', line: 'pong 2' },
        ],
      );
      const bad = await p.hsu('logs', 'echo', '-n', 'lots');
      assert.equal(bad.code, 1);
    });
  });

  it('events streams lifecycle events until Ctrl-C, as lines or JSON', T, async () => {
    await withProject(async (p) => {
      p.write(echoEntry('echo', p.marker));
      await started(p);
      const text = new Running(['events'], p.dir);
      const json = new Running(['events', 'echo', '--json'], p.dir);
      await text.until('the stream open', (_out, err) => err.includes('hsu: watching the events'));
      await json.until('the stream open', (_out, err) => err.includes('hsu: watching the events'));
      assert.equal((await p.hsu('restart', 'echo')).code, 0);
      await text.until('the restart', (out) => /echo {2}starting -> running \(pid \d+\)/.test(out));
      assert.match(text.out, /echo {2}running -> stopping/);
      await json.until('running again', (out) => out.includes('"to":"running"'));
      const events = json.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; data: { worker_id: string } });
      assert.ok(events.some((e) => e.event === 'exit'));
      assert.ok(events.every((e) => e.data.worker_id === 'echo'));
      assert.equal(await text.stop('SIGINT'), 0);
      assert.equal(await json.stop('SIGTERM'), 0);
    });
  });

  it('reload adds, changes and removes workers, keeps the unchanged ones, applies module config in place, rejects an invalid file; so does SIGHUP', T, async () => {
    await withProject(async (p) => {
      p.write(`${echoEntry('keep', p.marker)}${echoEntry('change', p.marker)}${echoEntry('drop', p.marker)}${moduleEntry('mod', RECONFIGURABLE, '{ level: 1 }')}`);
      await started(p);
      const keep = await pidOf(p, 'keep');
      const change = await pidOf(p, 'change');
      p.write(`${echoEntry('keep', p.marker)}${echoEntry('change', p.marker, ', NEW: "1"')}${echoEntry('added', p.marker)}${moduleEntry('mod', RECONFIGURABLE, '{ level: 2 }')}`);
      const reload = await p.hsu('reload');
      assert.equal(reload.code, 0, reload.err);
      assert.match(reload.out, /added added; removed drop; restarted change with their new config; reconfigured mod in place; 1 unchanged/);
      const now = await workers(p);
      assert.deepEqual(now.map((w) => [w.id, w.state]).sort(), [
        ['added', 'running'],
        ['change', 'running'],
        ['keep', 'running'],
        ['mod', 'running'],
      ]);
      assert.equal(await pidOf(p, 'keep'), keep);
      assert.notEqual(await pidOf(p, 'change'), change);
      // An invalid file: exit 1, every problem with its line, nothing touched.
      p.write(`${echoEntry('keep', p.marker)}  - id: broken\n    type: process\n    stop_timeout: soon\n    execution: { executable_path: node }\n`);
      const refused = await p.hsu('reload');
      assert.equal(refused.code, 1);
      assert.match(refused.err, /reload refused, nothing was changed/);
      assert.match(refused.err, /hsu\.yaml:12:19 {2}workers\[1\]\.stop_timeout/);
      const refusedJson = await p.hsu('reload', '--json');
      assert.equal(refusedJson.code, 1);
      assert.equal((JSON.parse(refusedJson.out) as { error: { issues: unknown[] } }).error.issues.length, 1);
      assert.equal((await workers(p)).length, 4);
      assert.equal(await pidOf(p, 'keep'), keep);
      assert.match(readFileSync(path.join(p.stateDir, 'master.log'), 'utf8'), /reload refused: the config file is invalid; nothing was changed/, 'the master log says so too');
      // SIGHUP, the daemon convention.
      p.write(echoEntry('keep', p.marker));
      process.kill(p.masterPid(), 'SIGHUP');
      const deadline = Date.now() + 20_000;
      while ((await workers(p)).length !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual((await workers(p)).map((w) => w.id), ['keep']);
      assert.equal(await pidOf(p, 'keep'), keep);
      assert.ok(isAlive(p.masterPid()), 'SIGHUP reloads; it does not stop the master');
    });
  });

  it('shutdown stops the daemon and every worker and waits for it; afterwards the client says so in one line', T, async () => {
    await withProject(async (p) => {
      p.write(`${echoEntry('a', p.marker)}${echoEntry('b', p.marker)}`);
      await started(p, true);
      const pid = p.masterPid();
      const down = await p.hsu('shutdown');
      assert.deepEqual([down.code, down.out], [0, `hsu: master pid ${pid} stopped\n`]);
      assert.equal(isAlive(pid), false);
      for (const file of ['api.json', 'hsu.sock', 'master.pid']) assert.equal(existsSync(path.join(p.stateDir, file)), false, file);
      assert.ok(readFileSync(path.join(p.stateDir, 'master.log'), 'utf8').includes('shutdown complete'));
      for (const command of [['ls'], ['status', 'a'], ['restart', 'all'], ['logs', 'a'], ['events'], ['reload'], ['shutdown']]) {
        const none = await p.hsu(...command);
        assert.equal(none.code, 1, command.join(' '));
        assert.equal(none.out, '');
        assert.equal(none.err.trim().split('\n').length, 1, `one line for ${command.join(' ')}: ${none.err}`);
        assert.match(none.err, /^hsu: no master is running for .*\.hsu/);
        const json = await p.hsu(...command, '--json');
        assert.equal((JSON.parse(json.out) as { error: { code: string } }).error.code, 'HSU_ERR_CLIENT_NO_MASTER');
      }
    });
  });
});
