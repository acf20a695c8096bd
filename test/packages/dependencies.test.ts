// Dependencies between packages: semver resolution to one version per name, installed with the
// package in one transaction, conflicts reported with both sides, nothing installed half-way.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PackageStore, resolveDependencies } from '../../src/packages/index.js';
import type { PackResult } from '../../src/packages/index.js';
import { buildPackage, rejectsWith, suiteScratch, treeOf } from './helpers.js';

const work = suiteScratch('deps');
const repo = path.join(work.dir, 'repo');
const packs = new Map<string, PackResult>();

before(async () => {
  const specs: [string, string, Record<string, string>][] = [
    ['app', '1.0.0', { lib: '^1.0.0', util: '>=2.0.0' }],
    ['lib', '1.0.0', {}],
    ['lib', '1.5.0', { util: '^2.1.0' }],
    ['lib', '2.0.0', {}],
    ['util', '2.0.0', {}],
    ['util', '2.2.0', {}],
    ['util', '3.0.0', {}],
    ['clash', '1.0.0', { lib: '^1.0.0', other: '1.x' }],
    ['other', '1.0.0', { lib: '^2.0.0' }],
    ['lonely', '1.0.0', { ghost: '^1.0.0' }],
  ];
  for (const [name, version, dependencies] of specs) packs.set(`${name}@${version}`, await buildPackage(repo, { name, version, dependencies }));
});

let count = 0;
function store(): PackageStore {
  count += 1;
  return new PackageStore({ stateDir: path.join(work.dir, `state-${count}`), repositories: [repo] });
}

const ids = async (s: PackageStore): Promise<string[]> => (await s.list()).map((pkg) => `${pkg.name}@${pkg.version}`);

describe('dependencies', () => {
  it('installs the closure, each at the highest version every requirement allows', async () => {
    const s = store();
    const result = await s.install('app');
    // util: >=2.0.0 alone would pick 3.0.0; lib@1.5.0 narrows it to ^2.1.0.
    assert.deepEqual(
      result.installed.map((pkg) => `${pkg.name}@${pkg.version}`),
      ['lib@1.5.0', 'util@2.2.0', 'app@1.0.0'],
    );
    assert.deepEqual(await ids(s), ['app@1.0.0', 'lib@1.5.0', 'util@2.2.0']);
    const resolved = await s.resolve('app', '1.0.0');
    assert.deepEqual(
      resolved.dependencies.map((dep) => [dep.name, dep.version, dep.root]),
      [
        ['lib', '1.5.0', path.join(s.root, 'lib', '1.5.0')],
        ['util', '2.2.0', path.join(s.root, 'util', '2.2.0')],
      ],
    );
    // A dependency another package needs is protected.
    await rejectsWith(s.remove('lib', '1.5.0'), 'PACKAGE_IN_USE');
  });

  it('reuses installed dependencies when no repository is at hand', async () => {
    const s = store();
    await s.install(packs.get('lib@1.0.0')?.file ?? '');
    await s.install(packs.get('util@2.0.0')?.file ?? '');
    const offline = new PackageStore({ stateDir: path.dirname(s.root) });
    const result = await offline.install(packs.get('app@1.0.0')?.file ?? '');
    assert.deepEqual(
      result.installed.map((pkg) => pkg.name),
      ['app'],
    );
    assert.deepEqual(
      (await offline.resolve('app')).dependencies.map((dep) => `${dep.name}@${dep.version}`),
      ['lib@1.0.0', 'util@2.0.0'],
    );
  });

  it('reports a conflict with both sides and installs nothing', async () => {
    const s = store();
    const error = await rejectsWith(s.install('clash'), 'PACKAGE_DEPENDENCY_CONFLICT');
    assert.deepEqual(error.context.required_by, [
      { package: 'clash@1.0.0', range: '^1.0.0' },
      { package: 'other@1.0.0', range: '^2.0.0' },
    ]);
    assert.match(error.message, /clash@1\.0\.0 requires \^1\.0\.0, other@1\.0\.0 requires \^2\.0\.0/);
    assert.deepEqual(await ids(s), []);
    assert.deepEqual(treeOf(path.join(s.root, '.tmp')), []);
  });

  it('a dependency no repository has is PACKAGE_NOT_FOUND naming who needs it', async () => {
    const s = store();
    const error = await rejectsWith(s.install('lonely'), 'PACKAGE_NOT_FOUND');
    assert.match(error.message, /lonely@1\.0\.0 requires \^1\.0\.0/);
    assert.deepEqual(await ids(s), []);
  });

  it('takes committed dependencies back out when the package itself fails to commit', async () => {
    const s = store();
    // A plain file where the version directory must go: the final rename fails after lib and util are in.
    mkdirSync(path.join(s.root, 'app'), { recursive: true });
    writeFileSync(path.join(s.root, 'app', '1.0.0'), 'in the way');
    await rejectsWith(s.install('app'), 'PACKAGE_STORE_FAILED');
    assert.deepEqual(await ids(s), []);
    assert.deepEqual(treeOf(path.join(s.root, '.tmp')), []);
  });

  it('uses dependencies listed in an index without downloading candidates it rejects', async () => {
    const indexed = path.join(work.dir, 'indexed');
    mkdirSync(indexed, { recursive: true });
    const entry = (id: string, dependencies: Record<string, string>, url?: string): Record<string, unknown> => {
      const packed = packs.get(id);
      return { name: packed?.manifest.name, version: packed?.manifest.version, url: url ?? packed?.file, sha256: packed?.sha256, dependencies: Object.entries(dependencies).map(([name, version]) => ({ name, version })) };
    };
    const packages = [
      entry('app@1.0.0', { lib: '^1.0.0', util: '>=2.0.0' }),
      entry('lib@1.5.0', { util: '^2.1.0' }),
      entry('util@2.2.0', {}),
      // Chosen first for ">=2.0.0", then dropped: never fetched, so its missing file never matters.
      entry('util@3.0.0', {}, 'missing/util-3.0.0.tgz'),
    ];
    writeFileSync(path.join(indexed, 'index.json'), JSON.stringify({ format: 1, packages }));
    const s = new PackageStore({ stateDir: path.join(work.dir, 'state-indexed'), repositories: [indexed] });
    assert.deepEqual(
      (await s.install('app')).installed.map((pkg) => `${pkg.name}@${pkg.version}`),
      ['lib@1.5.0', 'util@2.2.0', 'app@1.0.0'],
    );
    // An index that lies about dependencies is caught when the archive is read.
    writeFileSync(path.join(indexed, 'index.json'), JSON.stringify({ format: 1, packages: [entry('lib@1.5.0', {})] }));
    const liar = new PackageStore({ stateDir: path.join(work.dir, 'state-liar'), repositories: [indexed] });
    await rejectsWith(liar.install('lib'), 'PACKAGE_INDEX_INVALID');
  });

  it('the resolver settles on one version per name across the closure', async () => {
    const graph: Record<string, Record<string, Record<string, string>>> = {
      a: { '1.0.0': { b: '^1', c: '*' } },
      b: { '1.0.0': { c: '<2' }, '1.1.0': { c: '<1.5' } },
      c: { '1.0.0': {}, '1.4.0': {}, '1.9.0': {}, '2.0.0': {} },
    };
    const chosen = await resolveDependencies(
      { name: 'a', version: '1.0.0', dependencies: [{ name: 'b', version: '^1' }, { name: 'c', version: '*' }] },
      {
        versions: async (name) => Object.keys(graph[name] ?? {}),
        node: async (name, version) => ({ name, version, dependencies: Object.entries(graph[name]?.[version] ?? {}).map(([dep, range]) => ({ name: dep, version: range })) }),
      },
    );
    assert.deepEqual([...chosen], [
      ['b', '1.1.0'],
      ['c', '1.4.0'],
    ]);
  });
});
