// The client side without a daemon process: which files a command loads (the `hsu ls` promise: no
// zod, pino or yaml), how it finds the master, and what a terminal sees.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { apiSettingsSchema, resolveApiSettings } from '../../src/api/config.js';
import { ApiServer } from '../../src/api/server.js';
import { locateStateDir } from '../../src/cli/client/locate.js';
import { parseReply } from '../../src/cli/client/unix-http.js';
import { main, type CliIo } from '../../src/cli/main.js';
import { createTestMaster, pluginWorker, type TestMaster } from '../helpers/master-helpers.js';
import { echoWorker } from '../api/helpers.js';
import { BIN } from './helpers.js';
import { repoRoot } from '../helpers/paths.js';

const T = { timeout: 30_000 };
const HEAVY = ['/node_modules/zod/', '/node_modules/pino/', '/node_modules/pino-pretty/', '/node_modules/yaml/', '/src/config/schema'];

let t: TestMaster & { dispose: () => Promise<void> };
let server: ApiServer;
let stateDir: string;

before(async () => {
  t = createTestMaster();
  stateDir = path.join(t.dir, '.hsu');
  t.master.addWorker(echoWorker(t, 'echo'));
  t.master.addWorker(pluginWorker('plug', 'ok.mjs'));
  await t.master.start();
  server = await ApiServer.start({ host: { master: t.master, logDir: path.join(t.dir, 'logs'), stateDir }, settings: resolveApiSettings(apiSettingsSchema.parse({}), stateDir, t.dir, {}) });
});

after(async () => {
  await server.close();
  await t.dispose();
});

const BUNDLE_DIR = path.join(repoRoot, 'dist', 'src', 'bundle');

/** A chunk of the binary's bundle stands for the files it holds (scripts/bundle-package.mjs writes which, in meta.json). */
function sourcesOf(urls: string[]): string[] {
  const outputs = JSON.parse(readFileSync(path.join(BUNDLE_DIR, 'meta.json'), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;
  return urls.flatMap((url) => {
    const file = url.startsWith('file:') ? fileURLToPath(url) : '';
    const chunk = outputs[path.relative(repoRoot, file)];
    return chunk === undefined ? [url] : Object.keys(chunk.inputs).map((input) => pathToFileURL(path.join(repoRoot, input)).href);
  });
}

/** The module URLs `hsu args...` loads, through a load hook that records each one. */
async function loadsOf(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ urls: string[]; code: number | null }> {
  const hook = path.join(t.dir, 'trace-loads.mjs');
  const trace = path.join(t.dir, `loads-${args[0]}.txt`);
  writeFileSync(hook, `import { registerHooks } from 'node:module';\nimport { appendFileSync } from 'node:fs';\nregisterHooks({ load(url, context, next) { appendFileSync(${JSON.stringify(trace)}, url + '\\n'); return next(url, context); } });\n`);
  writeFileSync(trace, '');
  const child = spawn(process.execPath, ['--import', hook, BIN, ...args, '--state-dir', stateDir], { stdio: 'ignore', env: { ...process.env, ...env } });
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { urls: readFileSync(trace, 'utf8').split('\n').filter((u) => u !== ''), code };
}

void describe('what a client command loads', () => {
  // reload and scale exit 1 here: this master has no config file, and echo has no replicas.
  const commands = [['ls'], ['status', 'echo'], ['restart', 'echo'], ['logs', 'echo'], ['reload'], ['start', 'all'], ['scale', 'echo', '2']];
  for (const [how, env] of [['bundled', {}], ['unbundled', { HSU_UNBUNDLED: '1' }]] as const) {
    for (const args of commands) {
      it(`hsu ${args.join(' ')} (${how}) loads node:http and a few small files, none of zod, pino or yaml`, T, async () => {
        const { urls, code } = await loadsOf(args, env);
        assert.equal(
          urls.some((u) => u.startsWith(pathToFileURL(BUNDLE_DIR).href)),
          how === 'bundled',
          `the binary ran ${how}`,
        );
        const sources = sourcesOf(urls);
        assert.ok(sources.some((u) => u.endsWith('/dist/src/cli/client/connection.js')), 'the client ran');
        assert.ok(args[0] === 'reload' || args[0] === 'scale' ? code === 1 : code === 0, `exit code ${code}`);
        const heavy = sources.filter((u) => HEAVY.some((h) => u.includes(h)));
        assert.deepEqual(heavy, []);
        // The client's own files plus the error catalogue (one small file per subsystem's codes).
        assert.ok(urls.filter((u) => u.startsWith('file:')).length <= 20, `few files: ${urls.join(', ')}`);
      });
    }
  }
});

void describe('the binary under --conditions=hsu-unbundled', () => {
  it('runs tsc’s files, as plugins then get tsc’s hsu/worker', T, async () => {
    const { urls, code } = await loadsOf(['ls'], { NODE_OPTIONS: '--conditions=hsu-unbundled' });
    assert.equal(code, 0);
    assert.ok(urls.some((u) => u.endsWith('/dist/src/cli/main.js')), 'tsc’s main.js ran');
    assert.ok(!urls.some((u) => u.startsWith(pathToFileURL(BUNDLE_DIR).href)), 'nothing of the bundle loaded');
  });
});

void describe('finding the master', () => {
  it('--state-dir, then HSU_STATE_DIR, then hsu.yaml’s master.state_dir, then ./.hsu', T, async () => {
    const dir = path.join(t.dir, 'proj');
    mkdirSync(dir, { recursive: true });
    assert.deepEqual(await locateStateDir(undefined, {}, dir), { stateDir: path.join(dir, '.hsu'), from: 'the current directory' });
    writeFileSync(path.join(dir, 'hsu.yaml'), 'workers: []\n');
    assert.equal((await locateStateDir(undefined, {}, dir)).stateDir, path.join(dir, '.hsu'));
    writeFileSync(path.join(dir, 'hsu.yaml'), 'master:\n  state_dir: ${STATE:-run/state}\nworkers: []\n');
    assert.deepEqual(await locateStateDir(undefined, {}, dir), { stateDir: path.join(dir, 'run', 'state'), from: 'master.state_dir of hsu.yaml' });
    assert.equal((await locateStateDir(undefined, { STATE: '/var/x' }, dir)).stateDir, '/var/x');
    assert.equal((await locateStateDir(undefined, { HSU_STATE_DIR: 'env-dir' }, dir)).stateDir, path.join(dir, 'env-dir'));
    assert.equal((await locateStateDir('flag-dir', { HSU_STATE_DIR: 'env-dir' }, dir)).stateDir, path.join(dir, 'flag-dir'));
    writeFileSync(path.join(dir, 'hsu.yaml'), 'master: [state_dir: {\n');
    assert.equal((await locateStateDir(undefined, {}, dir)).stateDir, path.join(dir, '.hsu'), 'a broken file falls back to the default');
  });
});

void describe('on a terminal', () => {
  const capture = (tty: boolean, color: boolean): { io: CliIo; text: () => string } => {
    let out = '';
    return { io: { out: (s) => void (out += s), err: (s) => void (out += s), style: { tty, color } }, text: () => out };
  };

  it('ls is an aligned table with colour; without colour when NO_COLOR says so', T, async () => {
    const coloured = capture(true, true);
    assert.equal(await main(['ls', '--state-dir', stateDir], coloured.io), 0);
    const lines = coloured.text().trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.ok(coloured.text().includes('\u001b[32mrunning'), 'running in green');
    const plain = capture(true, false);
    await main(['ls', '--state-dir', stateDir], plain.io);
    assert.ok(!plain.text().includes('\u001b['));
    const [header, echo] = plain.text().split('\n');
    assert.match(header!, /^id {4}type {5}deployment {2}state {4}health/);
    assert.equal(echo!.indexOf('process'), header!.indexOf('type'), 'columns line up');
  });

  it('ls and status show a process worker\'s CPU and memory once the resource watchdog sampled it', T, async () => {
    const deadline = Date.now() + 15_000;
    let echo = '';
    while (Date.now() < deadline) {
      const plain = capture(false, false);
      assert.equal(await main(['ls', '--state-dir', stateDir], plain.io), 0);
      echo = plain.text().split('\n').find((line) => line.startsWith('echo')) ?? '';
      if (/\d+(\.\d)?mb\s*$/.test(echo)) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.match(echo, /\s\d+(\.\d)?%\s+\d+(\.\d)?mb\s*$/, `cpu and memory columns of: ${echo}`);
    const status = capture(false, false);
    assert.equal(await main(['status', 'echo', '--state-dir', stateDir], status.io), 0);
    assert.match(status.text(), /memory\s+\d+(\.\d)?mb/);
  });

  it('logs prefixes the stream on a terminal', T, async () => {
    const out = capture(true, false);
    assert.equal(await main(['logs', 'echo', '--state-dir', stateDir], out.io), 0);
    assert.match(out.text(), /^out \| ready$/m);
  });
});

void describe('the bare socket client', () => {
  it('reads a reply sized by Content-Length or chunked, and refuses what is not HTTP', () => {
    const sized = parseReply(Buffer.from('HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}trailing'));
    assert.deepEqual([sized.status, sized.headers['content-type'], sized.body], [404, 'application/json', '{"a":1}']);
    const chunked = parseReply(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n6;ext=1\r\n:"é"}\r\n0\r\n\r\n'));
    assert.deepEqual(JSON.parse(chunked.body), { a: 'é' });
    assert.throws(() => parseReply(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2')), /incomplete/);
    assert.throws(() => parseReply(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n')), /not an HTTP response/);
    assert.throws(() => parseReply(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab')), /truncated|malformed/);
  });
});
