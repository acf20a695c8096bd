// The store: versions side by side, list/get/resolve/remove/verify, checksum and content checks,
// supported_types, and the current/previous bookkeeping a rollback needs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PackageStore } from '../../src/packages/index.js';
import { buildPackage, rawTgz, rejectsWith, suiteScratch, treeOf } from './helpers.js';

const work = suiteScratch('store');
const repo = path.join(work.dir, 'repo');

let stores = 0;
function freshStore(): PackageStore {
  stores += 1;
  return new PackageStore({ stateDir: path.join(work.dir, `state-${stores}`) });
}

describe('install, list, resolve', () => {
  it('keeps versions side by side under <state_dir>/packages/<name>/<version>', async () => {
    const store = freshStore();
    const v1 = await buildPackage(repo, { name: 'side', version: '1.0.0' });
    const v2 = await buildPackage(repo, { name: 'side', version: '1.4.0' });
    const v3 = await buildPackage(repo, { name: 'side', version: '2.0.0-rc.1' });
    for (const packed of [v2, v1, v3]) assert.equal((await store.install(packed.file)).already_installed, false);
    assert.deepEqual(await store.versions('side'), ['1.0.0', '1.4.0', '2.0.0-rc.1']);
    assert.deepEqual(
      (await store.list()).map((pkg) => `${pkg.name}@${pkg.version}`),
      ['side@1.0.0', 'side@1.4.0', 'side@2.0.0-rc.1'],
    );
    const one = await store.get('side', '1.0.0');
    assert.equal(one?.root, path.join(store.root, 'side', '1.0.0'));
    assert.equal(one?.receipt.sha256, v1.sha256);
    assert.equal(readFileSync(path.join(one?.root ?? '', 'package.yaml'), 'utf8').includes('version: 1.0.0'), true);
    // Nothing left in the temporary area after successful installs.
    assert.deepEqual(treeOf(path.join(store.root, '.tmp')), []);
  });

  it('resolves a version or range to absolute paths and the package defaults', async () => {
    const store = freshStore();
    for (const version of ['1.0.0', '1.2.3', '1.9.0', '2.0.0']) {
      await store.install((await buildPackage(repo, { name: 'res', version, extra: 'health_check:\n  endpoint: /health\n  port: 8080\n  interval: 30s' })).file);
    }
    assert.equal((await store.resolve('res', '1.2.3')).version, '1.2.3');
    assert.equal((await store.resolve('res', '^1.2.0')).version, '1.9.0');
    assert.equal((await store.resolve('res')).version, '2.0.0');
    const pkg = await store.resolve('res', '~1.2', { type: 'process' });
    assert.equal(pkg.process?.executable_path, path.join(pkg.root, 'bin', 'run'));
    assert.deepEqual(pkg.process?.args, ['--from-package']);
    assert.equal(pkg.module?.module_path, path.join(pkg.root, 'lib', 'module.mjs'));
    assert.equal(pkg.module?.entry_point, 'create');
    assert.deepEqual(pkg.health_check, { type: 'http', endpoint: '/health', port: 8080, interval: 30_000 });
    const missing = await rejectsWith(store.resolve('res', '^3'), 'PACKAGE_NOT_FOUND');
    assert.deepEqual(missing.context.installed, ['1.0.0', '1.2.3', '1.9.0', '2.0.0']);
    await rejectsWith(store.resolve('nothing'), 'PACKAGE_NOT_FOUND');
  });

  it('checks supported_types at install (--target) and at resolve, naming the supported ones', async () => {
    const store = freshStore();
    const packed = await buildPackage(repo, { name: 'only-process', version: '1.0.0', types: ['process'] });
    const refused = await rejectsWith(store.install(packed.file, { target: 'module' }), 'PACKAGE_UNSUPPORTED_TYPE');
    assert.deepEqual(refused.context.supported_types, ['process']);
    assert.match(refused.message, /supported_types are process/);
    await rejectsWith(store.install(packed.file, { target: 'both' }), 'PACKAGE_UNSUPPORTED_TYPE');
    assert.deepEqual(await store.list(), []);
    await store.install(packed.file, { target: 'process' });
    await rejectsWith(store.resolve('only-process', '*', { type: 'module' }), 'PACKAGE_UNSUPPORTED_TYPE');
    assert.equal((await store.resolve('only-process', '*', { type: 'process' })).module, undefined);
  });

  it('installing the same archive twice is a no-op; other content under the same version is refused unless forced', async () => {
    const store = freshStore();
    const first = await buildPackage(path.join(repo, 'a'), { name: 'twice', version: '1.0.0' });
    const other = await buildPackage(path.join(repo, 'b'), { name: 'twice', version: '1.0.0', files: { 'extra.txt': 'different' } });
    await store.install(first.file);
    assert.equal((await store.install(first.file)).already_installed, true);
    await rejectsWith(store.install(other.file), 'PACKAGE_EXISTS');
    assert.equal((await store.get('twice', '1.0.0'))?.receipt.sha256, first.sha256);
    const forced = await store.install(other.file, { force: true });
    assert.equal(forced.package.receipt.sha256, other.sha256);
    assert.equal(existsSync(path.join(forced.package.root, 'extra.txt')), true);
    assert.deepEqual(treeOf(path.join(store.root, '.tmp')), []);
  });

  it('refuses a checksum mismatch (sidecar or --sha256) and installs nothing', async () => {
    const store = freshStore();
    const packed = await buildPackage(path.join(repo, 'sum'), { name: 'summed', version: '1.0.0' });
    await rejectsWith(store.install(packed.file, { sha256: 'f'.repeat(64) }), 'PACKAGE_CHECKSUM_MISMATCH');
    writeFileSync(`${packed.file}.sha256`, `${'0'.repeat(64)}  summed-1.0.0.tgz\n`);
    const error = await rejectsWith(store.install(packed.file), 'PACKAGE_CHECKSUM_MISMATCH');
    assert.equal(error.context.actual, packed.sha256);
    assert.deepEqual(await store.list(), []);
    // The right checksum given explicitly wins over a wrong sidecar.
    assert.equal((await store.install(packed.file, { sha256: packed.sha256 })).package.version, '1.0.0');
  });

  it('refuses a package that claims module (or process) without the file', async () => {
    const store = freshStore();
    const file = path.join(work.dir, 'hollow-1.0.0.tgz');
    const manifest = 'name: hollow\nversion: 1.0.0\nsupported_types: [process, module]\nprocess:\n  executable_path: bin/run\nmodule:\n  module_path: lib/gone.mjs\n  entry_point: create\n';
    writeFileSync(file, rawTgz([{ name: 'package.yaml', body: manifest }, { name: 'bin/run', body: '#!/bin/sh\n', mode: 0o755 }]));
    const error = await rejectsWith(store.install(file), 'PACKAGE_ENTRY_MISSING');
    assert.equal(error.context.key, 'module.module_path');
    writeFileSync(file, rawTgz([{ name: 'package.yaml', body: manifest }, { name: 'bin/run', body: 'x', mode: 0o644 }, { name: 'lib/gone.mjs', body: '' }]));
    assert.match((await rejectsWith(store.install(file), 'PACKAGE_ENTRY_MISSING')).message, /not executable/);
    assert.deepEqual(await store.list(), []);
  });

  it('refuses a manifest with unknown keys, with its location inside the archive', async () => {
    const store = freshStore();
    const file = path.join(work.dir, 'odd-1.0.0.tgz');
    writeFileSync(file, rawTgz([{ name: 'package.yaml', body: 'name: odd\nversion: 1.0.0\nsupported_types: [module]\nmodule:\n  module_path: m.mjs\nauthor: me\n' }, { name: 'm.mjs', body: '' }]));
    const error = await rejectsWith(store.install(file), 'PACKAGE_MANIFEST_INVALID');
    assert.match(error.message, /odd-1\.0\.0\.tgz!package\.yaml:6:1 {2}author {2}unknown key "author"/);
    assert.deepEqual(await store.list(), []);
  });
});

describe('remove and verify', () => {
  it('removes one version or all, and refuses a version that is current unless forced', async () => {
    const store = freshStore();
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) await store.install((await buildPackage(repo, { name: 'gone', version })).file);
    await store.setCurrent('gone', '1.1.0', { scope: 'worker-a' });
    const held = await rejectsWith(store.remove('gone', '1.1.0'), 'PACKAGE_IN_USE');
    assert.deepEqual(held.context.holders, [{ scope: 'worker-a', as: 'current' }]);
    assert.deepEqual(await store.remove('gone', '1.0.0'), ['gone@1.0.0']);
    assert.deepEqual(await store.versions('gone'), ['1.1.0', '1.2.0']);
    await rejectsWith(store.remove('gone'), 'PACKAGE_IN_USE');
    assert.deepEqual(await store.remove('gone', undefined, { force: true }), ['gone@1.1.0', 'gone@1.2.0']);
    assert.equal(existsSync(path.join(store.root, 'gone')), false);
    await rejectsWith(store.remove('gone'), 'PACKAGE_NOT_FOUND');
    await rejectsWith(store.remove('gone', '9.9.9'), 'PACKAGE_NOT_FOUND');
  });

  it('verify reports changed, missing and added files, and a damaged archive copy', async () => {
    const store = freshStore();
    const { package: pkg } = await store.install((await buildPackage(repo, { name: 'checked', version: '1.0.0', files: { 'data/a.txt': 'a' } })).file);
    assert.deepEqual((await store.verify('checked', '1.0.0'))[0]?.problems, []);
    writeFileSync(path.join(pkg.root, 'data/a.txt'), 'changed');
    rmSync(path.join(pkg.root, 'bin/run'));
    writeFileSync(path.join(pkg.root, 'added.txt'), 'new');
    const [report] = await store.verify('checked');
    assert.equal(report?.ok, false);
    assert.deepEqual(
      [...(report?.problems ?? [])].filter((p) => !p.includes('process.executable_path')).sort(),
      ['added.txt is not part of the package', 'bin/run is missing', 'data/a.txt has changed'],
    );
    writeFileSync(path.join(pkg.root, '.hsu-package', 'archive.tgz'), 'broken');
    assert.match((await store.verify('checked'))[0]?.problems[0] ?? '', /hashes to/);
    await rejectsWith(store.verify('never-installed'), 'PACKAGE_NOT_FOUND');
    await rejectsWith(store.verify('checked', '9.9.9'), 'PACKAGE_NOT_FOUND');
    // A version whose receipt is damaged is reported by verify, left out of list, and still removable.
    writeFileSync(path.join(pkg.root, '.hsu-package', 'receipt.json'), '{ broken');
    store.invalidate(pkg.root);
    assert.match((await store.verify('checked'))[0]?.problems[0] ?? '', /receipt/);
    assert.deepEqual(await store.list(), []);
    assert.deepEqual(await store.remove('checked', '1.0.0'), ['checked@1.0.0']);
  });

  it('sweeps temporary directories left by dead processes', async () => {
    const store = freshStore();
    const stale = path.join(store.root, '.tmp', '999999999-deadbeef');
    mkdirSync(path.join(stale, 'tree'), { recursive: true });
    writeFileSync(path.join(stale, 'tree', 'half-written'), 'x');
    const strayOfMine = path.join(store.root, '.tmp', `${process.pid}-abcdef`);
    mkdirSync(strayOfMine);
    await store.install((await buildPackage(repo, { name: 'sweeper', version: '1.0.0' })).file);
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(strayOfMine), false);
  });
});

describe('current and previous (upgrade bookkeeping)', () => {
  it('keeps the version before as previous, per scope, and rolls back', async () => {
    const store = freshStore();
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) await store.install((await buildPackage(repo, { name: 'up', version })).file);
    assert.equal(await store.current('up'), undefined);
    assert.deepEqual(pick(await store.setCurrent('up', '1.0.0')), { current: '1.0.0', previous: null });
    assert.deepEqual(pick(await store.setCurrent('up', '2.0.0')), { current: '2.0.0', previous: '1.0.0' });
    assert.deepEqual(pick(await store.setCurrent('up', '1.1.0', { scope: 'worker-b' })), { current: '1.1.0', previous: null });
    assert.deepEqual(pick(await store.rollback('up')), { current: '1.0.0', previous: '2.0.0' });
    assert.deepEqual(pick((await store.current('up')) ?? { current: '', previous: null }), { current: '1.0.0', previous: '2.0.0' });
    assert.deepEqual(Object.keys(await store.currentScopes('up')).sort(), ['default', 'worker-b']);
    await rejectsWith(store.rollback('up', 'worker-b'), 'PACKAGE_NOT_FOUND');
    // The version kept for rollback is protected like the current one.
    await rejectsWith(store.remove('up', '2.0.0'), 'PACKAGE_IN_USE');
    await store.forgetScope('up', 'worker-b');
    assert.deepEqual(Object.keys(await store.currentScopes('up')), ['default']);
  });

  it('refuses a downgrade without allowDowngrade, and a version that is not installed', async () => {
    const store = freshStore();
    for (const version of ['1.0.0', '2.0.0']) await store.install((await buildPackage(repo, { name: 'down', version })).file);
    await store.setCurrent('down', '2.0.0');
    await rejectsWith(store.setCurrent('down', '1.0.0'), 'PACKAGE_DOWNGRADE');
    assert.deepEqual(pick(await store.setCurrent('down', '1.0.0', { allowDowngrade: true })), { current: '1.0.0', previous: '2.0.0' });
    await rejectsWith(store.setCurrent('down', '3.0.0'), 'PACKAGE_NOT_FOUND');
  });
});

function pick(record: { current: string; previous: string | null }): { current: string; previous: string | null } {
  return { current: record.current, previous: record.previous };
}
