// hsu/testing under vitest (a devDependency: vitest 4 on Node 24): the same testModule cases,
// registered through vitest's describe/it/beforeAll/afterAll, pass for a good module in all three
// deployments, and a failing case makes `vitest run` fail, so the integration cannot pass vacuously.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { after, describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { GOOD_MJS } from './testing-sources.js';
import { sourceDir } from './ts-sources.js';

const execFileAsync = promisify(execFile);
const src = sourceDir({ 'adder.mjs': GOOD_MJS }, 'hsu-vitest-');
after(() => src.remove());

const { NODE_TEST_CONTEXT: _inherited, ...parentEnv } = process.env;

async function vitest(fail: boolean): Promise<{ code: number; output: string }> {
  const args = [path.join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', path.join(repoRoot, 'test', 'dx', 'fixtures', 'vitest'), '--reporter', 'verbose'];
  const env = { ...parentEnv, HSU_VITEST_MODULE: src.file('adder.mjs'), HSU_VITEST_FAIL: fail ? '1' : '0', CI: 'true', NO_COLOR: '1' };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, args, { cwd: repoRoot, env, encoding: 'utf8', timeout: 120_000 });
    return { code: 0, output: stripVTControlCharacters(stdout + stderr) };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : -1, output: stripVTControlCharacters(`${failed.stdout ?? ''}${failed.stderr ?? ''}`) };
  }
}

void describe('hsu/testing under vitest', { timeout: 240_000 }, () => {
  void it('testModule passes its cases and the conformance cases in inline, thread and process', async () => {
    const run = await vitest(false);
    assert.equal(run.code, 0, run.output);
    for (const deployment of ['inline', 'thread', 'process']) assert.match(run.output, new RegExp(`${deployment} > adds under vitest`), run.output);
    assert.match(run.output, /Tests\s+21 passed \(21\)/, run.output);
  });

  void it('a failing case fails the vitest run (once per deployment)', async () => {
    const run = await vitest(true);
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /Tests\s+3 failed \| 21 passed \(24\)/, run.output);
  });
});
