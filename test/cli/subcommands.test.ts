// `hsu package` and `hsu messages` as a user runs them: the real binary in a directory with its own
// hsu.yaml. The package store is the config's state_dir, a repository named in the config is
// searched; dead letters are listed and re-driven straight from a command worker's SQLite log, a
// mistyped log path creates nothing, and bad input is one coded line.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { SqliteMessageLog } from '../../src/messaging/index.js';
import { buildPackage } from '../packages/helpers.js';
import { tempDir } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';

const run = promisify(execFile);
const BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const scratch = tempDir('cli-sub');
after(() => scratch.remove());

async function hsu(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, HSU_STATE_DIR: '' } });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

void describe('hsu package, with the config of the current directory', () => {
  it('installs by name from the repository the config names, into its state_dir; ls and rm see it there', { timeout: 60_000 }, async () => {
    const dir = path.join(scratch.dir, 'app');
    const repo = path.join(dir, 'repo');
    mkdirSync(repo, { recursive: true });
    await buildPackage(repo, { name: 'tool', version: '1.2.0', types: ['process'] });
    writeFileSync(path.join(dir, 'hsu.yaml'), ['master:', '  state_dir: var/state', '  packages: { repositories: [repo] }', 'workers: []', ''].join('\n'));
    const installed = await hsu(dir, 'package', 'install', 'tool:^1', '--json');
    assert.equal(installed.code, 0, installed.err);
    assert.equal((JSON.parse(installed.out) as { package: { version: string } }).package.version, '1.2.0');
    assert.ok(existsSync(path.join(dir, 'var', 'state')), 'the store is under the config’s state_dir');
    const listed = await hsu(dir, 'package', 'ls', '--json');
    assert.match(listed.out, /"tool"/);
    assert.equal((await hsu(dir, 'package', 'ls', '--state-dir', path.join(dir, 'elsewhere'))).out.trim(), 'no packages installed', '--state-dir wins over the config');
    const removed = await hsu(dir, 'package', 'rm', 'tool:1.2.0');
    assert.equal(removed.code, 0, removed.err);
    const bad = await hsu(dir, 'package', 'install', 'tool:^9');
    assert.equal(bad.code, 1);
    assert.doesNotMatch(bad.err, /\n\s+at /, 'no stack trace for a known error');
  });
});

void describe('hsu messages, straight from a SQLite message log', () => {
  it('lists dead letters, re-drives one by id and all, refuses an unknown id, and creates no file for a wrong path', { timeout: 60_000 }, async () => {
    const dir = path.join(scratch.dir, 'msgs');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'orders.sqlite');
    const log = SqliteMessageLog.open(file);
    const ids: number[] = [];
    for (const n of [1, 2, 3]) ids.push(await log.append({ name: 'order.place', payload: { n } }));
    // What a command worker does when a handler fails its last attempt: the letter, in the log's own store.
    for (const id of ids.slice(0, 2)) {
      await log.consumers.deadLetter('orders', { message_id: id, name: 'order.place', data: '{}', appended_at: Date.now(), error_code: 'E_STOCK', error_message: `no stock for ${id}`, attempts: 3 });
    }
    await log.close();

    const dead = await hsu(dir, 'messages', 'dead', 'orders.sqlite', 'orders', '--json');
    assert.equal(dead.code, 0, dead.err);
    const letters = (JSON.parse(dead.out) as { dead_letters: { message_id: number; state: string; error_code: string }[] }).dead_letters;
    assert.deepEqual(letters.map((l) => [l.message_id, l.state, l.error_code]), [[ids[0], 'dead', 'E_STOCK'], [ids[1], 'dead', 'E_STOCK']]);
    const table = await hsu(dir, 'messages', 'dead', 'orders.sqlite', 'orders');
    assert.match(table.out, /^ID\s+COMMAND\s+STATE\s+ATTEMPTS/);
    assert.match(table.out, /no stock for/);

    const one = await hsu(dir, 'messages', 'redrive', 'orders.sqlite', 'orders', String(ids[0]), '--json');
    assert.deepEqual(JSON.parse(one.out), { ok: true, consumer: 'orders', redrive_requested: 1 });
    const marked = await hsu(dir, 'messages', 'dead', 'orders.sqlite', 'orders', '--state', 'redrive', '--json');
    assert.deepEqual((JSON.parse(marked.out) as { dead_letters: { message_id: number }[] }).dead_letters.map((l) => l.message_id), [ids[0]]);

    const unknown = await hsu(dir, 'messages', 'redrive', 'orders.sqlite', 'orders', String(ids[2]));
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /HSU_ERR_DEAD_LETTER_NOT_FOUND/);
    const rest = await hsu(dir, 'messages', 'redrive', 'orders.sqlite', 'orders');
    assert.match(rest.out, /^1 dead letter of 'orders' marked/);

    const missing = await hsu(dir, 'messages', 'dead', 'typo.sqlite', 'orders');
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no message log at .*typo\.sqlite/);
    assert.equal(existsSync(path.join(dir, 'typo.sqlite')), false, 'a wrong path leaves no empty database behind');
    assert.equal((await hsu(dir, 'messages', 'dead', 'orders.sqlite')).code, 1, 'a consumer is required');
    assert.match((await hsu(dir, 'messages', 'dead', 'orders.sqlite', 'orders', '-n', 'x')).err, /HSU_ERR_DEAD_LETTER_QUERY_INVALID/);
  });
});
