// The `hsu` command: validate and argument handling through main(argv) in-process; `hsu run` as a
// real child process (JSON state lines, graceful SIGTERM, a second signal that forces).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { main, type CliIo } from '../src/cli/main.js';
import { HsuRun, type LogLine } from './helpers/hsu-run.js';
import { alivePids, killMarked, plugin, processesWithMarker, tempDir, waitForMarkerGone } from './helpers/master-helpers.js';
import { fixture } from './helpers/paths.js';

const T = { timeout: 60_000 };
const scratch = tempDir('cli');
after(() => scratch.remove());

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (text) => void (out += text), err: (text) => void (err += text) };
  const code = await main(argv, io);
  return { code, out, err };
}

function writeConfig(name: string, text: string): string {
  const file = path.join(scratch.dir, name);
  writeFileSync(file, text);
  return file;
}

const VALID = writeConfig(
  'valid.yaml',
  `workers:
  - id: plug
    type: module
    module:
      module_type: plugin
      module_path: ${JSON.stringify(plugin('ok.mjs'))}
  - id: proc
    type: process
    execution:
      executable_path: node
      args: [${JSON.stringify(fixture('forever.mjs'))}]
`,
);

// Three problems, on lines 4, 7 and 10.
const INVALID = writeConfig(
  'invalid.yaml',
  `workers:
  - id: first
    type: process
    stop_timeout: soon
    execution: { executable_path: node }
  - id: second
    type: banana
  - id: third
    type: module
    colour: blue
    module: { module_type: native, module_name: x }
`,
);

void describe('hsu validate', () => {
  it('accepts a valid file: exit 0, and --json says ok with the workers', T, async () => {
    const text = await cli(['validate', VALID]);
    assert.equal(text.code, 0);
    assert.ok(text.out.includes(VALID));
    const json = await cli(['validate', VALID, '--json']);
    assert.equal(json.code, 0);
    assert.deepEqual(JSON.parse(json.out), {
      ok: true,
      file: VALID,
      workers: [
        { id: 'plug', type: 'module', runtime: 'inline' },
        { id: 'proc', type: 'process', runtime: 'process' },
      ],
      issues: [],
      notes: [],
    });
  });

  it('rejects an invalid file: exit 1, every issue printed with its line number', T, async () => {
    const text = await cli(['validate', INVALID]);
    assert.equal(text.code, 1);
    for (const [line, key] of [
      [4, 'workers[0].stop_timeout'],
      [7, 'workers[1].type'],
      [10, 'workers[2].colour'],
    ] as const) {
      assert.ok(
        text.out.split('\n').some((l) => l.startsWith(`${INVALID}:${line}:`) && l.includes(key)),
        `no issue for ${key} on line ${line} in:\n${text.out}`,
      );
    }
    const json = await cli(['validate', INVALID, '--json']);
    assert.equal(json.code, 1);
    const parsed = JSON.parse(json.out) as { ok: boolean; file: string; issues: { path: string; line: number; file: string }[] };
    assert.equal(parsed.ok, false);
    assert.deepEqual(
      parsed.issues.map((i) => [i.path, i.line, i.file]),
      [
        ['workers[0].stop_timeout', 4, INVALID],
        ['workers[1].type', 7, INVALID],
        ['workers[2].colour', 10, INVALID],
      ],
    );
  });

  it('a missing file: exit 1 with HSU_ERR_CONFIG_NOT_FOUND', T, async () => {
    const result = await cli(['validate', path.join(scratch.dir, 'absent.yaml')]);
    assert.equal(result.code, 1);
    assert.ok(result.err.includes('HSU_ERR_CONFIG_NOT_FOUND'), result.err);
  });
});

void describe('hsu arguments', () => {
  it('unknown command, no command, unknown option, missing file: exit 1; --help: exit 0', T, async () => {
    assert.equal((await cli(['frobnicate'])).code, 1);
    assert.equal((await cli([])).code, 1);
    assert.equal((await cli(['validate', VALID, '--no-such-option'])).code, 1);
    // Other tools' -c / --config: the message says where hsu takes the file.
    for (const flag of ['-c', '--config']) {
      const configFlag = await cli(['validate', flag, VALID]);
      assert.equal(configFlag.code, 1);
      assert.match(configFlag.err, /the config file is an argument, not an option: hsu run hsu\.yaml/);
    }
    assert.doesNotMatch((await cli(['validate', VALID, '--no-such-option'])).err, /the config file is an argument/);
    assert.equal((await cli(['validate'])).code, 1);
    assert.equal((await cli(['run'])).code, 1);
    const help = await cli(['--help']);
    assert.equal(help.code, 0);
    assert.ok(help.out.length > 0);
  });

  it('hsu run with an invalid config: exit 1 with HSU_ERR_CONFIG_INVALID, nothing started', T, async () => {
    const result = await cli(['run', INVALID]);
    assert.equal(result.code, 1);
    assert.ok(result.err.includes('HSU_ERR_CONFIG_INVALID'), result.err);
  });
});

// ---- hsu run, as a real process ----------------------------------------------------------------


function runConfig(name: string, marker: string, processWorker: string): string {
  return writeConfig(
    name,
    `master:
  log_dir: logs-${name}
  shutdown_timeout: 60s
workers:
  - id: plug
    type: module
    module:
      module_type: plugin
      module_path: ${JSON.stringify(plugin('ok.mjs'))}
${processWorker.replaceAll('{{marker}}', marker)}`,
  );
}

const isState = (line: LogLine): boolean => line.msg === 'state';

void describe('hsu run', () => {
  it('runs the workers, prints JSON state lines, and shuts down gracefully on SIGTERM', T, async () => {
    const marker = `cli-${process.pid}-graceful`;
    const config = runConfig(
      'graceful.yaml',
      marker,
      `  - id: proc
    type: process
    execution:
      executable_path: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(fixture('forever.mjs'))}]
      environment: { HSU_TEST_MARKER: '{{marker}}' }
`,
    );
    const run = new HsuRun(config, scratch.dir);
    try {
      const plug = await run.waitFor('plug running', (l) => isState(l) && l.worker === 'plug' && l.to === 'running');
      const proc = await run.waitFor('proc running', (l) => isState(l) && l.worker === 'proc' && l.to === 'running');
      await run.waitFor('the ready line of proc', (l) => l.worker === 'proc' && l.msg === 'ready');
      for (const line of run.lines.filter(isState)) {
        for (const key of ['worker', 'from', 'to', 'pid']) assert.ok(key in line, `state line without ${key}: ${JSON.stringify(line)}`);
      }
      assert.equal(plug.pid, null, 'an inline module has no pid of its own');
      assert.ok(typeof proc.pid === 'number' && proc.pid !== run.pid);
      assert.deepEqual(processesWithMarker(marker), [proc.pid]);

      run.signal('SIGTERM');
      assert.equal(await run.exitCode(), 0);
      assert.ok(run.lines.some((l) => l.msg === 'shutdown complete'));
      assert.ok(run.lines.some((l) => isState(l) && l.worker === 'proc' && l.to === 'stopped'));
      assert.deepEqual(await waitForMarkerGone(marker), []);
      assert.deepEqual(alivePids([proc.pid]), []);
    } finally {
      run.kill();
      killMarked(marker);
    }
  });

  it('a second signal forces: exit 1 promptly, and the stubborn worker is gone', T, async () => {
    const marker = `cli-${process.pid}-forced`;
    const config = runConfig(
      'forced.yaml',
      marker,
      `  - id: stubborn
    type: process
    stop_timeout: 60s
    execution:
      executable_path: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(fixture('no-killable.mjs'))}]
      environment: { HSU_TEST_MARKER: '{{marker}}' }
  - id: hanging
    type: module
    stop_timeout: 60s
    module:
      module_type: plugin
      module_path: ${JSON.stringify(plugin('hang-stop.mjs'))}
`,
    );
    const run = new HsuRun(config, scratch.dir);
    try {
      await run.waitFor('the ready line of stubborn', (l) => l.worker === 'stubborn' && l.msg === 'ready');
      const running = await run.waitFor('stubborn running', (l) => isState(l) && l.worker === 'stubborn' && l.to === 'running');
      await run.waitFor('hanging running', (l) => isState(l) && l.worker === 'hanging' && l.to === 'running');
      run.signal('SIGTERM');
      // Reverse order: the inline module whose stop() hangs holds the shutdown up; stubborn is still running.
      await run.waitFor('hanging stopping', (l) => isState(l) && l.worker === 'hanging' && l.to === 'stopping');
      assert.deepEqual(processesWithMarker(marker), [running.pid], 'SIGTERM alone does not end it');
      run.signal('SIGTERM');
      // Liveness bound, far below the 60 s stop_timeout and shutdown_timeout.
      assert.equal(await run.exitCode(), 1);
      assert.deepEqual(await waitForMarkerGone(marker), []);
      // Forced, not crashed: nothing was restarted on the way out.
      assert.equal(run.lines.filter((l) => isState(l) && l.worker === 'stubborn' && l.to === 'running').length, 1);
      assert.ok(!run.lines.some((l) => isState(l) && l.to === 'waiting_restart'));
    } finally {
      run.kill();
      killMarked(marker);
    }
  });
});
