// Malicious archives, written header by header: every one refused with a coded error, and after
// the refusal nothing is left anywhere, neither in the store nor outside it. Honest archives with
// links inside the package are the control: they install.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PackageStore } from '../../src/packages/index.js';
import { assertNoLeaks, rawTgz, rejectsWith, resourceCounts, scratch, treeOf, VALID_MANIFEST } from './helpers.js';
import type { RawEntry } from './helpers.js';

const MODULE = { name: 'lib/m.mjs', body: 'export default () => ({});\n' };
const PREFIX = [{ name: 'package.yaml', body: VALID_MANIFEST }, MODULE];

let baseline: Map<string, number>;
before(() => {
  baseline = resourceCounts();
});
after(() => assertNoLeaks(baseline));

/** Installs the raw archive into a fresh store and returns what remains of the scratch dir. */
async function attempt(entries: readonly RawEntry[], code: string, limits = {}): Promise<{ leftovers: string[]; dir: string; error: Error & { context: Record<string, unknown> } }> {
  const work = scratch('evil');
  try {
    const file = path.join(work.dir, 'evil.tgz');
    writeFileSync(file, rawTgz(entries));
    const store = new PackageStore({ stateDir: path.join(work.dir, 'state'), limits });
    const error = await rejectsWith(store.install(file), code);
    assert.deepEqual(await store.list(), []);
    const expected = new Set(['evil.tgz', 'state', 'state/packages', 'state/packages/.tmp']);
    return { leftovers: treeOf(work.dir).filter((entry) => !expected.has(entry)), dir: work.dir, error };
  } finally {
    work.remove();
  }
}

describe('archive safety', () => {
  it('refuses ../ paths at every depth and writes nothing outside (or inside)', async () => {
    const marker = `escape-${process.pid}-${Date.now()}`;
    const entries = [1, 2, 3, 4, 5, 6].map((depth) => ({ name: `${'../'.repeat(depth)}${marker}-${depth}`, body: 'owned' }));
    const { leftovers, error } = await attempt([...PREFIX, ...entries], 'PACKAGE_ARCHIVE_UNSAFE');
    assert.deepEqual(leftovers, []);
    assert.match(String(error.context.entry), /^\.\.\//);
    for (let depth = 1; depth <= 8; depth++) assert.equal(existsSync(path.join('/tmp', `${'x/../'.repeat(depth)}${marker}-${depth}`)), false);
  });

  it('refuses a ../ path hidden behind a directory (a/../../x)', async () => {
    const { leftovers } = await attempt([...PREFIX, { name: 'lib/../../sneaky', body: 'x' }], 'PACKAGE_ARCHIVE_UNSAFE');
    assert.deepEqual(leftovers, []);
  });

  it('refuses absolute paths (and does not strip them into the package either)', async () => {
    const target = `/tmp/hsu-escape-${process.pid}-${Date.now()}`;
    const { leftovers } = await attempt([{ name: `${target}/owned`, body: 'x' }, ...PREFIX], 'PACKAGE_ARCHIVE_UNSAFE');
    assert.deepEqual(leftovers, []);
    assert.equal(existsSync(target), false);
  });

  it('refuses symbolic links out of the root: relative, absolute, and through a chain of links', async () => {
    for (const links of [
      [{ name: 'out', type: '2', linkname: '../../../..' }],
      [{ name: 'lib/etc', type: '2', linkname: '/etc' }],
      // Each link reads as inside when judged as text; on disk `y` is the parent of the package.
      [
        { name: 'x', type: '2', linkname: '.' },
        { name: 'y', type: '2', linkname: 'x/..' },
      ],
    ]) {
      const { leftovers } = await attempt([...PREFIX, ...links], 'PACKAGE_ARCHIVE_UNSAFE');
      assert.deepEqual(leftovers, []);
    }
  });

  it('refuses writing through a symbolic link, even one that points inside', async () => {
    const { leftovers, error } = await attempt([...PREFIX, { name: 'alias', type: '2', linkname: 'lib' }, { name: 'alias/evil.mjs', body: 'x' }], 'PACKAGE_ARCHIVE_UNSAFE');
    assert.deepEqual(leftovers, []);
    assert.equal(error.context.entry, 'alias/evil.mjs');
  });

  it('refuses hard links to anything but a file earlier in the archive', async () => {
    for (const linkname of ['../../../../../etc/passwd', '/etc/passwd', 'lib/not-there']) {
      const { leftovers } = await attempt([...PREFIX, { name: 'hard', type: '1', linkname }], 'PACKAGE_ARCHIVE_UNSAFE');
      assert.deepEqual(leftovers, []);
    }
  });

  it('refuses device files and FIFOs', async () => {
    for (const type of ['3', '4', '6']) {
      const { error } = await attempt([...PREFIX, { name: 'dev', type }], 'PACKAGE_ARCHIVE_UNSAFE');
      assert.match(error.message, /device|FIFO/);
    }
  });

  it('refuses a path listed twice (a file replaced by a link) and the reserved directory', async () => {
    await attempt([...PREFIX, { name: 'lib/m.mjs', type: '2', linkname: '../package.yaml' }], 'PACKAGE_ARCHIVE_UNSAFE');
    await attempt([...PREFIX, { name: '.hsu-package/receipt.json', body: '{}' }], 'PACKAGE_ARCHIVE_UNSAFE');
  });

  it('refuses what is not a .tgz, and a .tgz cut short', async () => {
    const work = scratch('invalid');
    try {
      const store = new PackageStore({ stateDir: path.join(work.dir, 'state') });
      const junk = path.join(work.dir, 'junk.tgz');
      writeFileSync(junk, Buffer.from('this is not a tarball at all, not even close; '.repeat(40)));
      await rejectsWith(store.install(junk), 'PACKAGE_ARCHIVE_INVALID');
      const full = rawTgz([...PREFIX, { name: 'big.bin', body: Buffer.alloc(200_000, 1) }]);
      const cut = path.join(work.dir, 'cut.tgz');
      writeFileSync(cut, full.subarray(0, Math.floor(full.length / 2)));
      await rejectsWith(store.install(cut), 'PACKAGE_ARCHIVE_INVALID');
      assert.deepEqual(treeOf(path.join(work.dir, 'state', 'packages')), ['.tmp']);
    } finally {
      work.remove();
    }
  });

  it('stops at the entry and byte limits (a gzip bomb unpacks no further)', async () => {
    await attempt([...PREFIX, { name: 'a' }, { name: 'b' }, { name: 'c' }], 'PACKAGE_TOO_LARGE', { maxEntries: 3 });
    await attempt([...PREFIX, { name: 'zeros', body: Buffer.alloc(1_000_000) }], 'PACKAGE_TOO_LARGE', { maxUnpackedBytes: 500_000 });
  });

  it('stops inflating a stream that grows past what its entries could need (zeros after the end)', async () => {
    const work = scratch('bomb');
    try {
      const file = path.join(work.dir, 'bomb.tgz');
      const tar = gunzipSync(rawTgz(PREFIX));
      writeFileSync(file, gzipSync(Buffer.concat([tar, Buffer.alloc(4_000_000)])));
      const store = new PackageStore({ stateDir: path.join(work.dir, 'state'), limits: { maxUnpackedBytes: 100_000, maxEntries: 10 } });
      await rejectsWith(store.install(file), 'PACKAGE_TOO_LARGE');
      assert.deepEqual(await store.list(), []);
    } finally {
      work.remove();
    }
  });

  it('refuses a package without package.yaml, or whose package.yaml is a link', async () => {
    await attempt([MODULE], 'PACKAGE_MANIFEST_MISSING');
    await attempt([{ name: 'real.yaml', body: VALID_MANIFEST }, { name: 'package.yaml', type: '2', linkname: 'real.yaml' }, MODULE], 'PACKAGE_MANIFEST_MISSING');
  });

  it('installs honest links inside the package, and strips setuid bits', async () => {
    const work = scratch('honest');
    try {
      const file = path.join(work.dir, 'ok.tgz');
      writeFileSync(
        file,
        rawTgz([
          { name: './', type: '5', mode: 0o755 },
          { name: './package.yaml', body: VALID_MANIFEST },
          { name: './lib/', type: '5', mode: 0o755 },
          { name: './lib/real.mjs', body: 'export default () => ({});\n', mode: 0o4755 },
          { name: './lib/m.mjs', type: '2', linkname: 'real.mjs' },
          { name: './bin/', type: '5' },
          { name: './bin/up', type: '2', linkname: '../lib/real.mjs' },
          { name: './lib/copy.mjs', type: '1', linkname: 'lib/real.mjs' },
        ]),
      );
      const store = new PackageStore({ stateDir: path.join(work.dir, 'state') });
      const { package: pkg } = await store.install(file);
      assert.equal(readlinkSync(path.join(pkg.root, 'bin/up')), '../lib/real.mjs');
      assert.equal(lstatSync(path.join(pkg.root, 'lib/m.mjs')).isSymbolicLink(), true);
      assert.equal(statSync(path.join(pkg.root, 'lib/copy.mjs')).ino, statSync(path.join(pkg.root, 'lib/real.mjs')).ino);
      assert.equal(statSync(path.join(pkg.root, 'lib/real.mjs')).mode & 0o7777, 0o755);
      const [report] = await store.verify();
      assert.deepEqual(report?.problems, []);
    } finally {
      work.remove();
    }
  });
});
