// The package as users load it: package.json's exports name the bundle (scripts/bundle-package.mjs),
// built in one run with the binary so that every module exists once. A master from `hsu`, a
// plugin's `hsu/worker` and the `hsu` binary then share one copy of each module, and what goes by
// identity (a class, a registry) holds between them. `--conditions=hsu-unbundled` gives tsc's files.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../helpers/paths.js';

const T = { timeout: 30_000 };
const BUNDLE = path.join(repoRoot, 'dist', 'src', 'bundle');
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
/** `hsu`, `hsu/worker`, ...: every export but package.json itself. */
const SPECIFIERS = Object.keys(pkg.exports)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'hsu' : `hsu/${key.slice(2)}`));

/** What each specifier resolves to in a fresh node with `flags`, run from inside the package. */
function resolved(flags: string[]): Record<string, string> {
  const script = `const out = {}; for (const s of ${JSON.stringify(SPECIFIERS)}) out[s] = import.meta.resolve(s); console.log(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' })) as Record<string, string>;
}

type Namespace = Record<string, unknown>;
const load = (url: string): Promise<Namespace> => import(url) as Promise<Namespace>;

void describe('the package bundle', () => {
  it('every export resolves to the bundle, and to tsc’s files under --conditions=hsu-unbundled', T, () => {
    const bundled = resolved([]);
    const unbundled = resolved(['--conditions=hsu-unbundled']);
    for (const spec of SPECIFIERS) {
      assert.ok(bundled[spec]!.startsWith(pathToFileURL(BUNDLE).href + '/'), `${spec} -> ${bundled[spec]}`);
      assert.ok(!unbundled[spec]!.startsWith(pathToFileURL(BUNDLE).href) && unbundled[spec]!.startsWith(pathToFileURL(path.join(repoRoot, 'dist', 'src')).href), `${spec} -> ${unbundled[spec]}`);
    }
  });

  it('each bundled entry exports exactly what its tsc entry exports', T, async () => {
    const bundled = resolved([]);
    const unbundled = resolved(['--conditions=hsu-unbundled']);
    for (const spec of SPECIFIERS) {
      const [b, u] = await Promise.all([load(bundled[spec]!), load(unbundled[spec]!)]);
      assert.deepEqual(Object.keys(b).sort(), Object.keys(u).sort(), spec);
      for (const [name, value] of Object.entries(u)) assert.equal(typeof b[name], typeof value, `${spec}: ${name}`);
    }
  });

  it('every source module is in exactly one file of the bundle (one copy for the binary and every entry)', T, () => {
    const outputs = JSON.parse(readFileSync(path.join(BUNDLE, 'meta.json'), 'utf8')) as Record<string, { inputs: Record<string, unknown> }>;
    const homes = new Map<string, string[]>();
    for (const [output, { inputs }] of Object.entries(outputs)) {
      for (const input of Object.keys(inputs)) homes.set(input, [...(homes.get(input) ?? []), output]);
    }
    assert.ok(homes.size > 100, `the metafile lists the sources (${homes.size})`);
    const twice = [...homes].filter(([, files]) => files.length > 1);
    assert.deepEqual(twice, []);
  });

  it('what two tsc entries share (the same value under one name) is one value in the bundle too', T, async () => {
    const loadAll = (urls: Record<string, string>): Promise<Namespace[]> => Promise.all(SPECIFIERS.map((spec) => load(urls[spec]!)));
    const [bundled, unbundled] = await Promise.all([loadAll(resolved([])), loadAll(resolved(['--conditions=hsu-unbundled']))]);
    let shared = 0;
    for (let a = 0; a < SPECIFIERS.length; a++) {
      for (let b = a + 1; b < SPECIFIERS.length; b++) {
        for (const [name, value] of Object.entries(unbundled[a]!)) {
          // Two entries may export different things under one name (hsu's EventBus is not hsu/core's).
          if (typeof value !== 'function' || unbundled[b]![name] !== value) continue;
          shared++;
          assert.equal(bundled[a]![name], bundled[b]![name], `${name}: ${SPECIFIERS[a]} and ${SPECIFIERS[b]} export different copies`);
        }
      }
    }
    assert.ok(shared > 0, 'some function or class is exported by two entries');
  });
});
