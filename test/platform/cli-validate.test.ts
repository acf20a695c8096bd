// `hsu validate`: every file given is checked (exit 1 if any is bad, each reported); --json says
// what went wrong even for a file that does not exist; what `hsu run` could not start although the
// schema accepts it (a missing executable or module file, a missing export, a native module the
// runner does not register) is an error with its line, `--native <name>` declares a native one,
// and what cannot be checked (export * from another file) is a note, not an error.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../../src/index.js';
import { tempDir } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { cli, platformFixture } from './support.js';

const T = { timeout: 30_000 };
const scratch = tempDir('cli-validate');
after(() => scratch.remove());

function file(name: string, text: string): string {
  const out = path.join(scratch.dir, name);
  writeFileSync(out, text);
  return out;
}

interface FileReport {
  ok: boolean;
  file: string;
  error?: { code: string; message: string };
  issues: ConfigIssue[];
  notes: ConfigIssue[];
}

function jsonReports(out: string): FileReport[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FileReport);
}

const GOOD = file('good.yaml', `workers:\n  - id: p\n    type: process\n    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('forever.mjs'))}] }\n`);
const BAD = file('bad.yaml', 'workers:\n  - id: p\n    type: process\n    stop_timeout: soon\n    execution: { executable_path: node }\n');

// Each problem on a line of its own: 5, 10, 16, 21.
const UNSTARTABLE = file(
  'unstartable.yaml',
  `workers:
  - id: missing-exe
    type: process
    execution:
      executable_path: /nonexistent/hsu-test/server
  - id: missing-module
    type: module
    module:
      module_type: plugin
      module_path: ./no-such-module.mjs
  - id: missing-export
    type: module
    module:
      module_type: plugin
      module_path: ${JSON.stringify(platformFixture('counter.mjs'))}
      entry_point: nothing_here
  - id: native-one
    type: module
    module:
      module_type: native
      module_name: billing
`,
);

void describe('hsu validate with several files', () => {
  it('checks every file, reports each, and exits 1 when any is bad, whatever the order', T, async () => {
    for (const files of [
      [GOOD, BAD],
      [BAD, GOOD],
    ]) {
      const text = await cli(['validate', ...files]);
      assert.equal(text.code, 1, files.join(' '));
      assert.ok(text.out.includes(`${GOOD}: ok`), `good file not reported:\n${text.out}`);
      assert.ok(text.out.split('\n').some((l) => l.startsWith(`${BAD}:4:`)), `bad file not reported with its line:\n${text.out}`);
      const json = await cli(['validate', '--json', ...files]);
      assert.equal(json.code, 1);
      assert.deepEqual(
        jsonReports(json.out).map((r) => [r.file, r.ok]),
        files.map((f) => [f, f === GOOD]),
      );
    }
    const both = await cli(['validate', GOOD, GOOD]);
    assert.equal(both.code, 0);
    assert.equal(both.out.split('\n').filter((l) => l.startsWith(`${GOOD}: ok`)).length, 2);
  });

  it('--json on a missing file prints JSON: ok false, error.code HSU_ERR_CONFIG_NOT_FOUND; the other files are still checked', T, async () => {
    const missing = path.join(scratch.dir, 'absent.yaml');
    const result = await cli(['validate', '--json', missing, GOOD]);
    assert.equal(result.code, 1);
    const [first, second] = jsonReports(result.out);
    assert.equal(first?.ok, false);
    assert.equal(first?.file, missing);
    assert.equal(first?.error?.code, 'HSU_ERR_CONFIG_NOT_FOUND');
    assert.equal(second?.ok, true);
  });
});

void describe('hsu validate checks what hsu run could not start', () => {
  it('a missing executable, module file or export and an unregistered native module: located errors', T, async () => {
    const result = await cli(['validate', '--json', UNSTARTABLE]);
    assert.equal(result.code, 1);
    const [report] = jsonReports(result.out);
    assert.deepEqual(
      report?.issues.map((i) => [i.path, i.line, i.file]),
      [
        ['workers[0].execution.executable_path', 5, UNSTARTABLE],
        ['workers[1].module.module_path', 10, UNSTARTABLE],
        ['workers[2].module.entry_point', 16, UNSTARTABLE],
        ['workers[3].module.module_name', 21, UNSTARTABLE],
      ],
    );
    const text = await cli(['validate', UNSTARTABLE]);
    assert.equal(text.code, 1);
    for (const line of [5, 10, 16, 21]) assert.ok(text.out.includes(`${UNSTARTABLE}:${line}:`), `line ${line} not in:\n${text.out}`);
  });

  it('--native <name> declares the native module: it passes, the other problems stay', T, async () => {
    const result = await cli(['validate', '--json', '--native', 'billing', UNSTARTABLE]);
    assert.equal(result.code, 1);
    assert.deepEqual(
      jsonReports(result.out)[0]?.issues.map((i) => i.path),
      ['workers[0].execution.executable_path', 'workers[1].module.module_path', 'workers[2].module.entry_point'],
    );
    const nativeOnly = file('native.yaml', 'workers:\n  - id: n\n    type: module\n    module: { module_type: native, module_name: billing }\n');
    assert.equal((await cli(['validate', nativeOnly])).code, 1);
    assert.equal((await cli(['validate', '--native', 'billing', nativeOnly])).code, 0);
  });

  it('a plugin whose entry point may come from export * gets a note, not an error', T, async () => {
    const reexport = file(
      'reexport.yaml',
      `workers:\n  - id: r\n    type: module\n    module:\n      module_type: plugin\n      module_path: ${JSON.stringify(platformFixture('reexport.mjs'))}\n      entry_point: named\n`,
    );
    const result = await cli(['validate', '--json', reexport]);
    assert.equal(result.code, 0, result.out);
    const [report] = jsonReports(result.out);
    assert.equal(report?.ok, true);
    assert.deepEqual(report?.issues, []);
    assert.deepEqual(report?.notes.map((n) => [n.path, n.line]), [['workers[0].module.entry_point', 7]]);
    const text = await cli(['validate', reexport]);
    assert.ok(text.out.includes('note: '), text.out);
  });

  it('an entry with an invalid type still reports its other errors', T, async () => {
    const badType = file('bad-type.yaml', 'workers:\n  - id: x\n    type: banana\n    stop_timeout: soon\n');
    const result = await cli(['validate', '--json', badType]);
    assert.equal(result.code, 1);
    assert.deepEqual(
      jsonReports(result.out)[0]?.issues.map((i) => [i.path, i.line]),
      [
        ['workers[0].type', 3],
        ['workers[0].stop_timeout', 4],
      ],
    );
  });
});
