// `hsu startup`: the unit it prints and installs (into a temp root, never /etc), checked by running
// its ExecStart as systemd would (no shell, the unit's environment and directory), then its
// ExecReload (SIGHUP) and KillSignal (SIGTERM to the main process only).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { systemdUnit } from '../../src/daemon/startup.js';
import { BIN, echoEntry, hsu, withProject } from './helpers.js';

const T = { timeout: 60_000 };

/** `Key=value` lines of the [Service] section (repeated keys keep every value). */
function serviceOf(unit: string): Map<string, string[]> {
  const section = unit.slice(unit.indexOf('[Service]'), unit.indexOf('[Install]'));
  const out = new Map<string, string[]>();
  for (const line of section.split('\n').slice(1)) {
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), [...(out.get(line.slice(0, eq)) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

/** systemd's word splitting: whitespace separates, double quotes group, backslash escapes, $$ and %% are literal. */
function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && quoted) {
      word += line[++i] ?? '';
    } else if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (/\s/.test(c) && !quoted) {
      if (started || word !== '') words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
    }
  }
  if (started || word !== '') words.push(word);
  return words.map((w) => w.replace(/\$\$/g, '$').replace(/%%/g, '%'));
}

void describe('hsu startup', () => {
  it('prints a unit that runs this config in the foreground, reloads with SIGHUP and stops the master first', T, async () => {
    await withProject(async (p) => {
      p.write(echoEntry('echo', p.marker), '  shutdown_timeout: 20s\n');
      const result = await p.hsu('startup');
      assert.equal(result.code, 0, result.err);
      const service = serviceOf(result.out);
      assert.deepEqual(service.get('ExecStart'), [`${process.execPath} ${BIN} run ${p.config} --json`]);
      assert.deepEqual(service.get('ExecReload'), ['/bin/kill -HUP $MAINPID']);
      assert.deepEqual(service.get('KillMode'), ['mixed']);
      assert.deepEqual(service.get('TimeoutStopSec'), ['35']);
      assert.deepEqual(service.get('WorkingDirectory'), [p.dir]);
      assert.deepEqual(service.get('User'), [os.userInfo().username]);
      assert.match(result.out, /^\[Install\]\nWantedBy=multi-user\.target$/m);
      const json = await p.hsu('startup', 'hsu.yaml', '--name', 'web', '--user', 'svc', '--json');
      const parsed = JSON.parse(json.out) as { name: string; unit: string };
      assert.equal(parsed.name, 'hsu-web.service');
      assert.deepEqual(serviceOf(parsed.unit).get('User'), ['svc']);
      const badName = await p.hsu('startup', '--name', '../etc');
      assert.equal(badName.code, 1);
      p.write('  - id: x\n    type: nope\n');
      assert.equal((await p.hsu('startup')).code, 1, 'no unit for a config that cannot start');
    });
  });

  it('--install writes hsu-<name>.service under the root; its ExecStart really runs the master, SIGHUP reloads, SIGTERM stops it', T, async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'hsu-root-'));
    try {
      await withProject(async (p) => {
        p.write(echoEntry('echo', p.marker));
        const installed = await hsu(['startup', '--install', '--name', 'demo'], { cwd: p.dir, env: { HSU_SYSTEMD_ROOT: root } });
        assert.equal(installed.code, 0, installed.err);
        const file = path.join(root, 'etc', 'systemd', 'system', 'hsu-demo.service');
        assert.match(installed.out, new RegExp(`wrote ${file}`));
        assert.match(installed.out, /systemctl daemon-reload && systemctl enable --now hsu-demo\.service/);
        assert.equal(statSync(file).mode & 0o777, 0o644);
        const service = serviceOf(readFileSync(file, 'utf8'));
        const [command, ...args] = splitCommand(service.get('ExecStart')![0]!);
        const env = Object.fromEntries(service.get('Environment')!.map((e) => splitCommand(e)[0]!.split(/=(.*)/s).slice(0, 2)));
        const master = spawn(command!, args, { cwd: service.get('WorkingDirectory')![0], env, stdio: ['ignore', 'pipe', 'pipe'] });
        let log = '';
        master.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
        const exited = new Promise<number | null>((resolve) => master.once('exit', resolve));
        const until = async (what: string, test: () => boolean): Promise<void> => {
          const deadline = Date.now() + 20_000;
          while (!test()) {
            if (Date.now() > deadline) assert.fail(`no ${what}; log: ${log}`);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        };
        await until('master running', () => log.includes('"msg":"master running"'));
        assert.equal((await p.hsu('ls')).code, 0);
        p.write(`${echoEntry('echo', p.marker)}${echoEntry('second', p.marker)}`);
        master.kill('SIGHUP'); // ExecReload
        await until('the reload', () => log.includes('"msg":"config reloaded"'));
        assert.equal((await p.json<{ workers: unknown[] }>('ls')).workers.length, 2);
        master.kill('SIGTERM'); // KillMode=mixed: the main process alone
        assert.equal(await exited, 0);
        assert.ok(log.includes('"msg":"shutdown complete"'));
      });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('quotes what systemd would split or expand', () => {
    const unit = systemdUnit({ name: 'x', configFile: '/srv/my app/100%/hsu.yaml', user: 'u', node: '/opt/node $1/bin/node', bin: '/b.js', path: '/usr/bin', shutdownTimeoutMs: 1000 });
    const exec = serviceOf(unit).get('ExecStart')![0]!;
    assert.deepEqual(splitCommand(exec), ['/opt/node $1/bin/node', '/b.js', 'run', '/srv/my app/100%/hsu.yaml', '--json']);
  });
});
