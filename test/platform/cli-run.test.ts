// `hsu --version`, which fatal errors hint at `hsu validate` (config errors do, a runtime error
// such as a state directory in use does not), and the message of a forced stop of an inline module
// whose stop() hangs (it was abandoned, not "not finished within 0 ms").
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Master } from '../../src/index.js';
import { diagnostics, pluginWorker, tempDir, withMaster } from '../helpers/master-helpers.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { cli } from './support.js';

const T = { timeout: 30_000 };
const scratch = tempDir('cli-run');
after(() => scratch.remove());
const BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const VERSION = (JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

function hsu(...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  return hsuIn(scratch.dir, ...argv);
}

function hsuIn(cwd: string, ...argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', cwd, timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

void describe('hsu --version', () => {
  it("prints package.json's version, in-process and from the real binary (-v too)", T, async () => {
    const inProcess = await cli(['--version']);
    assert.equal(inProcess.code, 0);
    assert.ok(inProcess.out.startsWith(`hsu ${VERSION} `), inProcess.out);
    for (const flag of ['--version', '-v']) {
      const binary = hsu(flag);
      assert.equal(binary.status, 0, binary.stderr);
      assert.ok(binary.stdout.startsWith(`hsu ${VERSION} `), binary.stdout);
    }
  });
});

void describe('run and validate without a file', () => {
  it('use ./hsu.yaml, and say so when there is none', T, () => {
    const dir = path.join(scratch.dir, 'default-config');
    mkdirSync(dir);
    for (const command of ['run', 'validate']) {
      const none = hsuIn(dir, command);
      assert.equal(none.status, 1);
      assert.match(none.stderr, new RegExp(`${command} needs a config file: .*there is no hsu\\.yaml in ${dir.replaceAll('/', '\\/')}`), none.stderr);
    }
    writeFileSync(path.join(dir, 'hsu.yaml'), 'workers:\n  - { id: p, type: process, stop_timeout: soon }\n');
    const invalid = hsuIn(dir, 'validate');
    assert.equal(invalid.status, 1);
    assert.match(invalid.stdout + invalid.stderr, /hsu\.yaml:2:\d+ +workers\[0\]\.stop_timeout/);
    const refused = hsuIn(dir, 'run');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /invalid configuration in .*hsu\.yaml/);
    writeFileSync(path.join(dir, 'hsu.yaml'), `workers:\n  - { id: p, type: process, execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('forever.mjs'))}] } }\n`);
    const valid = hsuIn(dir, 'validate');
    assert.equal(valid.status, 0, valid.stdout + valid.stderr);
    assert.match(valid.stdout, /hsu\.yaml/);
  });
});

void describe('the hint to run hsu validate', () => {
  it('is given for a config error and not for a runtime error such as a state directory in use', T, async () => {
    const stateDir = path.join(scratch.dir, 'state');
    const good = path.join(scratch.dir, 'good.yaml');
    writeFileSync(
      good,
      `master: { state_dir: ${JSON.stringify(stateDir)}, log_dir: ${JSON.stringify(path.join(scratch.dir, 'logs'))} }\nworkers:\n  - { id: p, type: process, execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('forever.mjs'))}] } }\n`,
    );
    const bad = path.join(scratch.dir, 'bad.yaml');
    writeFileSync(bad, 'workers:\n  - { id: p, type: process, stop_timeout: soon }\n');

    const invalid = hsu('run', bad);
    assert.equal(invalid.status, 1);
    assert.ok(invalid.stderr.includes('HSU_ERR_CONFIG_INVALID'), invalid.stderr);
    assert.ok(invalid.stderr.includes('hsu validate'), `a config error should hint at hsu validate:\n${invalid.stderr}`);

    const owner = new Master({ stateDir, logDir: path.join(scratch.dir, 'logs') });
    try {
      const inUse = hsu('run', good);
      assert.equal(inUse.status, 1);
      assert.ok(inUse.stderr.includes('HSU_ERR_STATE_DIR_IN_USE'), inUse.stderr);
      assert.ok(!inUse.stderr.includes('hsu validate'), `a runtime error must not hint at hsu validate:\n${inUse.stderr}`);
    } finally {
      await owner.shutdown();
    }
  });
});

void describe('a forced stop of an inline module whose stop() hangs', () => {
  const hanging = pluginWorker('hang', 'hang-stop.mjs', {}, { stop_timeout: '30s' });
  const assertAbandonedMessage = (message: string | undefined): void => {
    assert.ok(message !== undefined && message.length > 0);
    assert.doesNotMatch(message, /within 0 ms/);
  };

  it('stopWorker({ force: true }): stopped, HSU_ERR_STOP_TIMEOUT, and the message says it was abandoned', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(hanging);
      await master.startWorker('hang');
      await master.stopWorker('hang', { force: true });
      const d = diagnostics(master, 'hang');
      assert.equal(d.state, 'stopped');
      assert.equal(d.last_error?.code, 'HSU_ERR_STOP_TIMEOUT');
      assertAbandonedMessage(d.last_error?.message);
    }),
  );

  it('a graceful stop under way, then forced; and a forced shutdown: the same', T, () =>
    withMaster(async ({ master }) => {
      master.addWorker(hanging);
      master.addWorker({ ...hanging, id: 'hang2' });
      await master.start();
      const graceful = master.stopWorker('hang');
      await master.stopWorker('hang', { force: true });
      await graceful;
      assertAbandonedMessage(diagnostics(master, 'hang').last_error?.message);
      const report = await master.shutdown({ force: true });
      assert.equal(report.forced, true);
      assert.equal(diagnostics(master, 'hang2').last_error?.code, 'HSU_ERR_STOP_TIMEOUT');
      assertAbandonedMessage(diagnostics(master, 'hang2').last_error?.message);
    }),
  );
});
