// `hsu new` for real: each kind generated into a temp dir, installed by npm from a loopback
// registry (hsu from `npm pack` of this repository), then its build, type check, tests and
// `npm start`, stopped with SIGTERM. One tarball, one registry, one npm cache for all of them.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { render } from '../../src/scaffold/index.js';
import { markedProcesses } from '../../src/testing/process-tracker.js';
import { repoRoot } from '../helpers/paths.js';
import { LocalRegistry } from './local-registry.js';

const execFileAsync = promisify(execFile);
const work = mkdtempSync(path.join(os.tmpdir(), 'hsu-scaffold-'));
const cache = path.join(work, 'npm-cache');
let registry: LocalRegistry;
/** npm and the projects' scripts run on this Node (24), found first in PATH. */
// Without NODE_TEST_CONTEXT: inherited, it makes the projects' own `node --test` report to this runner instead of printing.
const { NODE_TEST_CONTEXT: _inherited, ...parentEnv } = process.env;
const env = { ...parentEnv, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, NO_COLOR: '1', npm_config_update_notifier: 'false' };

/** Asynchronous on purpose: the registry answering npm runs on this process's event loop. */
async function npm(args: readonly string[], cwd: string, timeout = 180_000): Promise<string> {
  try {
    const { stdout } = await execFileAsync('npm', [...args], { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    assert.fail(`npm ${args.join(' ')} failed (${String(failed.code)}):\n${failed.stdout ?? ''}\n${failed.stderr ?? ''}`);
  }
}

async function generate(args: readonly string[]): Promise<string> {
  const out: string[] = [];
  const code = await main(['new', ...args], { out: (t) => out.push(t), err: (t) => out.push(t) });
  assert.equal(code, 0, out.join(''));
  return out.join('');
}

/**
 * `npm start` in its own process group until `ready` is printed, then SIGINT to the group (what
 * Ctrl-C does); resolves once every holder of its output pipes (npm, the master) has exited.
 */
function startAndStop(cwd: string, ready: RegExp): Promise<{ output: string; code: number | null; marker: string }> {
  const marker = `scaffold-${process.pid}-${Date.now()}`;
  const child = spawn('npm', ['start'], { cwd, env: { ...env, HSU_TEST_MARKER: marker }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.kill(-(child.pid as number), 'SIGKILL');
      reject(new Error(`npm start did not print ${String(ready)} in time:\n${output}`));
    }, 60_000);
    let stopping = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (!stopping && ready.test(output)) {
        stopping = true;
        process.kill(-(child.pid as number), 'SIGINT');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ output, code, marker });
    });
  });
}

void describe('hsu new', { timeout: 600_000 }, () => {
  before(async () => {
    const packed = spawnSync('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: repoRoot, env, encoding: 'utf8' });
    assert.equal(packed.status, 0, packed.stderr);
    registry = new LocalRegistry(repoRoot, path.join(work, packed.stdout.trim().split('\n').at(-1) ?? ''));
    await registry.start();
  });
  after(async () => {
    await registry.close();
    rmSync(work, { recursive: true, force: true });
  });

  const install = (dir: string): Promise<string> => npm(['install', `--registry=${registry.url}/`, `--cache=${cache}`, '--no-audit', '--no-fund', '--prefer-offline'], dir);

  for (const { kind, name, flags, ready } of [
    { kind: 'module', name: '@acme/greeter', flags: ['--metrics', '--tracing', '--command-worker'], ready: /master running/ },
    { kind: 'process', name: 'web-api', flags: ['--metrics', '--tracing'], ready: /master running/ },
    { kind: 'master', name: 'shop', flags: ['--command-worker'], ready: /shop running/ },
  ]) {
    void it(`${kind} (${flags.join(' ')}): installs offline, builds, type-checks, passes its tests, runs with npm start`, async () => {
      const dir = path.join(work, kind);
      const said = await generate([kind, name, '--dir', dir, ...flags]);
      assert.match(said, /npm install/);
      await install(dir);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'node_modules', 'hsu', 'package.json'), 'utf8')) as { version: string };
      assert.equal(manifest.version, (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
      await npm(['run', 'build'], dir);
      await npm(['run', 'typecheck'], dir);
      const tests = await npm(['test'], dir, 300_000);
      assert.match(tests, /# fail 0|ℹ fail 0/);
      assert.doesNotMatch(tests, /# pass 0\b|ℹ pass 0\b/);
      const run = await startAndStop(dir, ready);
      assert.match(run.output, /shutdown complete/, run.output);
      assert.doesNotMatch(run.output, /"forced":true/, run.output);
      assert.deepEqual(markedProcesses(run.marker), [], 'npm start left processes behind');
    });
  }

  void it('no template asks for a package the registry does not have (every request was answered from the lockfile)', () => {
    assert.ok(registry.requests.some((r) => r === '/hsu'));
    assert.ok(registry.requests.some((r) => r === '/typescript'));
  });

  void it('refuses an unknown kind, a bad name and a non-empty directory with coded errors', async () => {
    const errors: string[] = [];
    const io = { out: () => undefined, err: (t: string) => errors.push(t) };
    assert.equal(await main(['new', 'plugin', 'x', '--dir', path.join(work, 'x')], io), 1);
    assert.equal(await main(['new', 'module', 'Bad Name', '--dir', path.join(work, 'y')], io), 1);
    assert.equal(await main(['new', 'module', 'again', '--dir', path.join(work, 'module')], io), 1);
    assert.match(errors.join(''), /HSU_ERR_SCAFFOLD_KIND_UNKNOWN[\s\S]*HSU_ERR_SCAFFOLD_NAME_INVALID[\s\S]*HSU_ERR_SCAFFOLD_TARGET_EXISTS/);
  });

  void it('the template language: values, sections on and off, standalone tags take their line, unknown names fail', () => {
    assert.equal(render('a {{x}}\n{{#on}}\nyes\n{{/on}}\n{{^on}}\nno\n{{/on}}\nz', { x: '1', on: true }), 'a 1\nyes\nz');
    assert.equal(render('{{#on}}yes{{/on}}{{^on}}no{{/on}}', { on: false }), 'no');
    assert.throws(() => render('{{missing}}', {}), /names no value/);
    assert.throws(() => render('{{#flag}}x{{/flag}}', {}), /names no flag/);
  });
});
