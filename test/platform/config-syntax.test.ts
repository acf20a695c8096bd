// Config syntax docker compose users expect: YAML merge keys (`<<: *anchor`) with shared defaults
// kept under `x-` keys, and `${VAR}` interpolation (`${VAR:-default}`, `${VAR:?message}`, `$$`)
// whose unset variables are errors located at their line, in the library and in `hsu validate`.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Master, loadConfigFile, validateConfigText } from '../../src/index.js';
import { tempDir } from '../helpers/master-helpers.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { cli } from './support.js';

const T = { timeout: 30_000 };
const scratch = tempDir('config-syntax');
after(() => scratch.remove());

const forever = `{ executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('forever.mjs'))}] }`;
const MERGED = path.join(scratch.dir, 'merged.yaml');
writeFileSync(
  MERGED,
  `x-defaults: &defaults
  restart: { policy: always, backoff: { initial: 10ms, max: 20ms } }
  stop_timeout: 3s
x-notes: anything at all under an x- key is not config
master:
  state_dir: ./state
  log_dir: ./logs
workers:
  - <<: *defaults
    id: a
    type: process
    x-owner: team-a
    execution: ${forever}
  - <<: *defaults
    id: b
    type: process
    stop_timeout: 1s
    execution: ${forever}
`,
);

void describe('YAML merge keys with x- anchors', () => {
  it('validate and apply: shared defaults land in each worker, a worker overrides one key', T, async () => {
    const result = await cli(['validate', MERGED]);
    assert.equal(result.code, 0, `${result.out}${result.err}`);
    const config = loadConfigFile(MERGED);
    assert.deepEqual(
      config.workers.map((w) => [w.id, w.restart.policy, w.restart.backoff.initial, w.stop_timeout]),
      [
        ['a', 'always', 10, 3000],
        ['b', 'always', 10, 1000],
      ],
    );
    const master = await Master.fromConfigFile(MERGED);
    try {
      assert.equal(master.getWorkerConfig('a').restart.policy, 'always');
      assert.equal(master.getWorkerConfig('b').stop_timeout, 1000);
    } finally {
      await master.shutdown();
    }
  });
});

// Line 6 holds every reference; args[4] and args[5] need variables.
const INTERPOLATED = `workers:
  - id: \${NAME}
    type: process
    execution:
      executable_path: \${BIN:-node}
      args: ["\${GREETING}", "\${EMPTY:-fallback}", "cost $$5", "$HOME stays", "\${NEEDED}", "\${PORT:?set PORT to the port to listen on}"]
`;

void describe('${VAR} interpolation', () => {
  it('substitutes values, defaults for unset or empty, $$ for a literal $, and leaves a bare $NAME alone', () => {
    const result = validateConfigText(INTERPOLATED, path.join(scratch.dir, 'i.yaml'), { env: { NAME: 'svc', GREETING: 'hi', EMPTY: '', NEEDED: 'x', PORT: '8080' } });
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    const [worker] = result.config.workers;
    assert.equal(worker?.id, 'svc');
    assert.ok(worker?.type === 'process');
    assert.equal(worker.execution?.executable_path, 'node');
    assert.deepEqual(worker.execution?.args, ['hi', 'fallback', 'cost $5', '$HOME stays', 'x', '8080']);
  });

  it('an unset variable is an error at its line and key path; ${VAR:?message} carries the message', () => {
    const file = path.join(scratch.dir, 'i.yaml');
    const result = validateConfigText(INTERPOLATED, file, { env: { NAME: 'svc', GREETING: 'hi' } });
    assert.ok(!result.ok);
    assert.deepEqual(
      result.issues.map((i) => [i.path, i.line, i.file]),
      [
        ['workers[0].execution.args[4]', 6, file],
        ['workers[0].execution.args[5]', 6, file],
      ],
    );
    assert.ok(result.issues[1]?.message.includes('set PORT to the port to listen on'));
  });

  it('hsu validate interpolates from its environment and locates what is unset', T, () => {
    const file = path.join(scratch.dir, 'cli-interpolated.yaml');
    writeFileSync(file, INTERPOLATED);
    const run = (env: Record<string, string>): { status: number | null; stdout: string } =>
      spawnSync(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js'), 'validate', file], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
    const bad = run({ NAME: 'svc', GREETING: 'hi' });
    assert.equal(bad.status, 1);
    const located = bad.stdout.split('\n').filter((l) => l.startsWith(`${file}:6:`));
    assert.deepEqual(
      located.map((l) => l.split('  ')[1]),
      ['workers[0].execution.args[4]', 'workers[0].execution.args[5]'],
      bad.stdout,
    );
    assert.equal(run({ NAME: 'svc', GREETING: 'hi', NEEDED: 'x', PORT: '1' }).status, 0);
  });
});
