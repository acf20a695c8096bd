// `hsu import pm2` on ecosystem files of the shapes PM2's documentation shows (CommonJS
// module.exports, JSON, YAML, a bare list), key by key; the converted file passes `hsu validate`
// and runs, its env_<name> blocks selected with `hsu run --env <name>`; bad files get coded errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { main } from '../../src/cli/main.js';
import { importPm2 } from '../../src/migrate/index.js';
import { HSU_BIN, HsuProcess } from './hsu-process.js';
import { sourceDir } from './ts-sources.js';

const execFileAsync = promisify(execFile);

// The "Ecosystem File" and "Application Declaration" pages of PM2's docs, in one file.
const ECOSYSTEM_JS = `module.exports = {
  apps: [{
    name: "app1",
    script: "./app.js",
    env: { GREETING: "base", PORT: 3000 },
    env_production: { NODE_ENV: "production", GREETING: "prod" },
    env_development: { NODE_ENV: "development" }
  }, {
    name: "api cluster",
    script: "./api.js",
    args: "--port 3000 --name 'my app'",
    instances: 4,
    exec_mode: "cluster",
    max_memory_restart: "300M",
    watch: ["src"],
    ignore_watch: ["node_modules", "logs"],
    watch_delay: 1000,
    cron_restart: "0 0 * * *",
    autorestart: true,
    max_restarts: 10,
    min_uptime: "10s",
    restart_delay: 4000,
    kill_timeout: 3000,
    wait_ready: true,
    listen_timeout: 10000,
    time: true,
    out_file: "./out.log",
    post_update: ["npm install"]
  }, {
    name: "py-worker",
    script: "worker.py",
    interpreter: "python3",
    autorestart: false
  }, {
    name: "job",
    script: "./job.sh",
    cwd: "/srv/jobs",
    exp_backoff_restart_delay: 100
  }, {
    name: "npm-start",
    script: "npm",
    args: "start",
    stop_exit_codes: [0]
  }],
  deploy: { production: { user: "node", host: "example" } }
};
`;

// app.js prints what it got, so the run tells which overlay was applied.
const APP_JS = `console.log('env NODE_ENV=' + (process.env.NODE_ENV ?? 'unset') + ' GREETING=' + process.env.GREETING + ' PORT=' + process.env.PORT);\nsetInterval(() => {}, 1000);\n`;

const src = sourceDir({
  'ecosystem.config.js': ECOSYSTEM_JS,
  'run/ecosystem.config.cjs': `module.exports = { apps: [{ name: "app1", script: "./app.js", env: { GREETING: "base", PORT: 3000 }, env_production: { NODE_ENV: "production", GREETING: "prod" }, env_development: { NODE_ENV: "development" } }] };\n`,
  'run/app.js': APP_JS,
  'process.json': JSON.stringify({ apps: [{ name: 'json-app', script: 'server.js', node_args: '--max-old-space-size=256', env: { A: '1' } }] }),
  'ecosystem.yaml': 'apps:\n  - name: yaml-app\n    script: ./bin/run\n    instances: max\n',
  'list.json': JSON.stringify([{ script: 'index.mjs', env: { PRICE: '${5}' } }]),
  'empty.json': JSON.stringify({ apps: [] }),
  'noscript.json': JSON.stringify({ apps: [{ name: 'x' }] }),
  'broken.config.js': 'module.exports = { apps: [ {',
}, 'hsu-pm2-');
after(() => src.remove());

const { NODE_TEST_CONTEXT: _inherited, ...parentEnv } = process.env;
async function hsu(args: readonly string[], cwd: string): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [HSU_BIN, ...args], { cwd, env: parentEnv, encoding: 'utf8' });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: Number(failed.code), out: failed.stdout ?? '', err: failed.stderr ?? '' };
  }
}

async function importFails(file: string): Promise<string | undefined> {
  return importPm2(src.file(file)).then(() => undefined, (error: { code?: string }) => error.code);
}

void describe('hsu import pm2', () => {
  void it('maps every documented key of a CommonJS ecosystem file, and the result passes hsu validate', async () => {
    const result = await importPm2(src.file('ecosystem.config.js'));
    assert.deepEqual(result.issues, []);
    assert.deepEqual(result.environments, ['development', 'production']);
    const [app1, api, py, job, npmStart] = result.workers as Record<string, Record<string, unknown>>[];
    assert.deepEqual(app1, {
      id: 'app1', type: 'process',
      execution: { executable_path: 'node', args: ['./app.js'], environment: { GREETING: 'base', PORT: '3000' } },
      restart: { policy: 'always' },
      env: { production: { NODE_ENV: 'production', GREETING: 'prod' }, development: { NODE_ENV: 'development' } },
    });
    assert.equal(api?.id, 'api-cluster');
    assert.deepEqual(api?.execution, { executable_path: 'node', args: ['./api.js', '--port', '3000', '--name', 'my app'] });
    assert.equal(api?.instances, 4);
    assert.deepEqual(api?.limits, { memory: { max_rss: '300MiB', policy: 'restart' } });
    assert.deepEqual(api?.watch, { paths: ['src'], ignore: ['logs/**'], delay: 1000 });
    assert.equal(api?.restart_schedule, '0 0 * * *');
    assert.deepEqual(api?.restart, { policy: 'always', backoff: { initial: 4000, max: 4000, multiplier: 1, jitter: 0 }, intensity: { max_restarts: 10, window: '60s' }, reset_after: '10s' });
    assert.equal(api?.stop_timeout, 3000);
    assert.equal(api?.wait_ready, true);
    assert.equal(api?.start_timeout, 10000);
    assert.deepEqual(api?.logs, { timestamp: true });
    const apiNotes = result.notes['api-cluster'] ?? [];
    for (const expected of [/exec_mode cluster/, /out_file/, /not converted: post_update/, /max_restarts/, /name "api cluster" is id api-cluster/]) assert.ok(apiNotes.some((n) => expected.test(n)), `${String(expected)} in ${apiNotes.join(' | ')}`);
    assert.deepEqual(py?.execution, { executable_path: 'python3', args: ['worker.py'] });
    assert.deepEqual(py?.restart, { policy: 'never' });
    assert.deepEqual(job?.execution, { executable_path: 'bash', args: ['./job.sh'], working_directory: '/srv/jobs' });
    assert.deepEqual(job?.restart, { policy: 'always', backoff: { initial: 100, max: '15s', multiplier: 1.5, jitter: 0 } });
    assert.deepEqual(npmStart?.execution, { executable_path: 'npm', args: ['start'] });
    assert.deepEqual(npmStart?.restart, { policy: 'on-failure' });
    // The notes are comments of the written file; the deploy section is named as left out.
    assert.match(result.yaml, /# The deploy section has no hsu counterpart/);
    assert.match(result.yaml, /# exec_mode cluster/);
    assert.deepEqual((parseYaml(result.yaml) as { workers: unknown[] }).workers, result.workers);
  });

  void it('reads JSON (process.json), YAML and a bare list; a literal ${ stays literal', async () => {
    const json = await importPm2(src.file('process.json'));
    assert.deepEqual(json.workers[0]?.execution, { executable_path: 'node', args: ['--max-old-space-size=256', 'server.js'], environment: { A: '1' } });
    const yaml = await importPm2(src.file('ecosystem.yaml'));
    assert.equal(yaml.workers[0]?.id, 'yaml-app');
    if (os.availableParallelism() > 1) assert.equal(yaml.workers[0]?.instances, os.availableParallelism());
    const list = await importPm2(src.file('list.json'));
    assert.equal(list.workers[0]?.id, 'index');
    assert.deepEqual((list.workers[0]?.execution as { environment: unknown }).environment, { PRICE: '$${5}' });
    assert.deepEqual(list.issues, []);
  });

  void it('refuses a file without apps, an app without a script and a file that does not evaluate, with coded errors', async () => {
    assert.equal(await importFails('empty.json'), 'HSU_ERR_MIGRATE_ECOSYSTEM_INVALID');
    assert.equal(await importFails('noscript.json'), 'HSU_ERR_MIGRATE_ECOSYSTEM_INVALID');
    assert.equal(await importFails('broken.config.js'), 'HSU_ERR_MIGRATE_FILE_UNREADABLE');
    assert.equal(await importFails('missing.json'), 'HSU_ERR_MIGRATE_FILE_UNREADABLE');
  });

  void it('-o writes hsu.yaml, refuses to overwrite without --force', async () => {
    const out = src.file('written.yaml');
    const err: string[] = [];
    const io = { out: () => undefined, err: (t: string) => err.push(t) };
    assert.equal(await main(['import', 'pm2', src.file('ecosystem.config.js'), '-o', out], io), 0);
    assert.match(err.join(''), /5 worker\(s\) written to .*environments: development, production/);
    assert.match(readFileSync(out, 'utf8'), /id: app1/);
    writeFileSync(out, 'keep me\n');
    assert.equal(await main(['import', 'pm2', src.file('ecosystem.config.js'), '-o', out], io), 1);
    assert.match(err.join(''), /HSU_ERR_MIGRATE_TARGET_EXISTS/);
    assert.equal(readFileSync(out, 'utf8'), 'keep me\n');
    assert.equal(await main(['import', 'pm2', src.file('ecosystem.config.js'), '-o', out, '--force'], io), 0);
    assert.match(readFileSync(out, 'utf8'), /id: app1/);
  });
});

void describe('hsu run --env <name> on an imported ecosystem file', { timeout: 60_000 }, () => {
  const dir = src.file('run');
  const envLine = async (args: readonly string[]): Promise<string> => {
    const run = new HsuProcess(['run', '--json', ...args, 'hsu.yaml'], dir);
    try {
      return String((await run.waitFor((r) => r.worker === 'app1' && typeof r.msg === 'string' && r.msg.startsWith('env '), 'the app to print its environment')).msg);
    } finally {
      assert.equal(await run.stop(), 0);
    }
  };

  void it('the base environment without --env, the overlay merged over it with --env', async () => {
    const imported = await hsu(['import', 'pm2', 'ecosystem.config.cjs', '-o', 'hsu.yaml'], dir);
    assert.equal(imported.code, 0, imported.err);
    assert.equal((await hsu(['validate', 'hsu.yaml'], dir)).code, 0);
    assert.equal(await envLine([]), 'env NODE_ENV=unset GREETING=base PORT=3000');
    assert.equal(await envLine(['--env', 'production']), 'env NODE_ENV=production GREETING=prod PORT=3000');
    assert.equal(await envLine(['--env', 'development']), 'env NODE_ENV=development GREETING=base PORT=3000');
  });

  void it('an environment no worker defines is a config error naming the defined ones (validate and run)', async () => {
    const validate = await hsu(['validate', '--env', 'staging', 'hsu.yaml'], dir);
    assert.equal(validate.code, 1);
    assert.match(validate.out + validate.err, /"staging".*not defined.*development, production/);
    const run = await hsu(['run', '--env', 'staging', 'hsu.yaml'], dir);
    assert.notEqual(run.code, 0);
    assert.match(run.out + run.err, /HSU_ERR_CONFIG_INVALID|not defined/);
  });
});
