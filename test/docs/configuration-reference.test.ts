// docs/configuration.md is the user reference of the YAML config; these tests keep it true to the
// zod schemas, which are the single source. Examples: every YAML block that is a whole config
// (has `workers:`) goes through the loader `hsu validate` uses (validateConfigForMaster: YAML,
// merges, `x-`, `${VAR}`, `package:` expansion from a real package store, the whole schema), with
// packages installed: real archives built for the `package:` refs it names. Not run: validate's
// preflight (do the named executables and module files exist), since examples name files of an
// imagined project. Keys: every key reachable from hsuConfigSchema must be named on the page, every
// key a table names must exist, and every default a table states must be the schema's.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import type * as z from 'zod';
import { DEFAULTS, formatIssues, hsuConfigSchema } from '../../src/config/index.js';
import { validateConfigForMaster } from '../../src/master/config-loader.js';
import { PackageStore } from '../../src/packages/index.js';
import { tempDir } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';
import { buildPackage } from '../packages/helpers.js';
import { readReference, yamlPaths, type Reference, type YamlBlock } from './markdown-reference.js';
import { defaultOf, displayPath, schemaKeys, type SchemaKeys } from './schema-keys.js';

const DOC = path.join(repoRoot, 'docs', 'configuration.md');
const markdown = readFileSync(DOC, 'utf8');
const schema = schemaKeys(hsuConfigSchema);
const scratch = tempDir('docs-config');
after(() => scratch.remove());

/** Schema keys the page does not name, for a page read by readReference. */
function undocumented(reference: Reference, keys: SchemaKeys): string[] {
  const named = new Set(reference.spanPaths);
  for (const block of reference.yamlBlocks) for (const p of yamlPaths(block.data)) named.add(p);
  return [...keys.keys.keys()].filter((p) => !named.has(p));
}

/** Table rows whose stated default is not the schema's; rows for keys without a simple default are not checked. */
function wrongDefaults(reference: Reference, keys: SchemaKeys): string[] {
  const problems: string[] = [];
  for (const row of reference.keyRows) {
    const found = keys.keys.get(row.path);
    if (found === undefined) continue; // reported as an unknown key
    const defaults = found.schemas.map(defaultOf);
    const first = defaults[0];
    // Union branches that disagree (balancer.track_in_flight) are explained in prose.
    if (first === undefined || !defaults.every((d) => d !== undefined && isDeepStrictEqual(d.value, first.value))) continue;
    // A block filled with its own defaults (restart: {}) is documented key by key.
    if (isPlainObject(first.value) && Object.keys(first.value).length > 0) continue;
    const label = `${displayPath(row.path)}: the schema's default is ${JSON.stringify(first.value)}`;
    if (row.defaultSpan === undefined) {
      problems.push(`${label}, the table says "${row.defaultText}" (write the default as one code span)`);
      continue;
    }
    const parsed = (found.schemas[0] as z.ZodType).safeParse(parseYaml(row.defaultSpan));
    if (!parsed.success || !isDeepStrictEqual(parsed.data, first.value)) {
      problems.push(`${label}, the table says \`${row.defaultSpan}\`${parsed.success ? ` (= ${JSON.stringify(parsed.data)})` : ' (not a valid value)'}`);
    }
  }
  return problems;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A doc path is a schema key, or lies under a record (`execution.environment.PORT`). */
function knownPath(p: string, keys: SchemaKeys): boolean {
  if (keys.keys.has(p)) return true;
  return [...keys.openMaps].some((open) => open !== '' && p.startsWith(`${open}.`));
}

/** Variables a block requires (`${X}`, `${X?msg}`, `${X:?msg}`), set so that its example validates. */
function requiredVariables(text: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}/g)) {
    const [, name, operator] = match;
    if (name !== undefined && (operator === undefined || operator.endsWith('?'))) env[name] = `doc-example-${name.toLowerCase()}-value`;
  }
  return env;
}

/** Installs a real package for every `package:` ref of the block, in the store its master would use. */
async function installPackages(block: YamlBlock, dir: string): Promise<void> {
  const data = block.data as { master?: { state_dir?: string }; workers?: { package?: unknown }[] };
  const refs = (data.workers ?? []).map((w) => w.package).filter((p): p is string => typeof p === 'string');
  if (refs.length === 0) return;
  const stateDir = data.master?.state_dir ?? DEFAULTS.master.state_dir;
  assert.ok(!path.isAbsolute(stateDir), `the example at line ${block.line} names packages and an absolute state_dir; the test would install into ${stateDir}`);
  const store = new PackageStore({ stateDir: path.resolve(dir, stateDir) });
  const archives = path.join(dir, 'built');
  for (const ref of new Set(refs)) {
    const [name = '', range = '*'] = ref.split(':');
    const version = semver.valid(range) ?? semver.minVersion(range)?.version;
    assert.ok(version !== undefined, `line ${block.line}: cannot pick a version for ${ref}`);
    if ((await store.versions(name)).includes(version)) continue;
    const built = await buildPackage(archives, { name, version, types: ['process', 'module'] });
    await store.install(built.file);
  }
}

void describe('docs/configuration.md', () => {
  const reference = readReference(markdown);
  const full = reference.yamlBlocks.filter((block) => isPlainObject(block.data) && 'workers' in block.data);

  it('finds what it checks: the schema walk reaches nested, union and list keys, the page has examples', () => {
    for (const key of ['master.cluster.reconnect.max', 'workers.health_check.port', 'workers.rlimits.nofile.soft', 'workers.depends_on.condition', 'workers.module.module_name', 'workers.balancer.hash_key', 'workers.package.range']) {
      assert.ok(schema.keys.has(key), `the schema walk did not reach ${key}`);
    }
    assert.ok(schema.openMaps.has('workers.execution.environment'));
    assert.ok(full.length >= 10, `expected the page's examples to be whole configs, found ${full.length}`);
    assert.ok(reference.keyRows.length >= 100, `expected the key tables, found ${reference.keyRows.length} rows`);
  });

  it('every complete example passes the loader hsu validate uses', { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    for (const [index, block] of full.entries()) {
      const dir = path.join(scratch.dir, `example-${index}`);
      mkdirSync(dir, { recursive: true });
      const file = path.join(dir, 'hsu.yaml');
      writeFileSync(file, block.text);
      await installPackages(block, dir);
      const result = await validateConfigForMaster(file, { install: false, env: requiredVariables(block.text) });
      if (!result.ok) failures.push(`example at docs/configuration.md line ${block.line}:\n${formatIssues(result.issues).replace(/^/gm, '  ')}`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });

  it('names every key of the schema', () => {
    const missing = undocumented(reference, schema).map(displayPath);
    assert.deepEqual(missing, [], `keys of hsuConfigSchema not in docs/configuration.md (add a table row or an example):\n  ${missing.join('\n  ')}`);
  });

  it('names no key the schema does not have', () => {
    const stale = [
      ...reference.keyRows.map((row) => row.path).filter((p) => !knownPath(p, schema)),
      ...reference.yamlBlocks.filter((block) => !full.includes(block)).flatMap((block) => yamlPaths(block.data).filter((p) => !knownPath(p, schema))),
    ].map(displayPath);
    assert.deepEqual(stale, [], `docs/configuration.md names keys hsuConfigSchema does not have:\n  ${stale.join('\n  ')}`);
  });

  it('states the schema defaults', () => {
    const problems = wrongDefaults(reference, schema);
    assert.deepEqual(problems, [], `defaults in docs/configuration.md differ from the schema:\n  ${problems.join('\n  ')}`);
  });

  it('would notice: a key the page stops naming, a wrong default', () => {
    const without = readReference(markdown.replaceAll('stall_limit', 'stall_limitation'));
    assert.deepEqual(undocumented(without, schema), ['master.cluster.stall_limit']);
    const row = '| `restart.policy` | `always` \\| `on-failure` \\| `never` | `on-failure` |';
    assert.ok(markdown.includes(row), 'the restart.policy row changed; update this test');
    const wrong = readReference(markdown.replace(row, '| `restart.policy` | `always` \\| `on-failure` \\| `never` | `always` |'));
    assert.deepEqual(wrongDefaults(wrong, schema), ['workers[].restart.policy: the schema\'s default is "on-failure", the table says `always` (= "always")']);
  });
});
