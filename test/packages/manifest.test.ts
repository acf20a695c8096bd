// package.yaml: the seeds' shape accepted, and every mistake reported at once with file:line:col,
// key path and the valid choices, as the main config does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifestText, validateManifestText } from '../../src/packages/index.js';
import type { ConfigIssue } from '../../src/config/index.js';

const SEED = `# package.yaml - supports both deployment types
name: "data-processor"
version: "1.2.3"
description: "High-performance data processing service"

supported_types: ["process", "module"]

process:
  executable_path: "bin/data-processor"
  args: ["--config", "config.yaml"]

module:
  module_path: "lib/data-processor.mjs"
  entry_point: "CreateDataProcessor"

dependencies:
  - name: "libprocessor"
    version: ">=2.1.0"

health_check:
  endpoint: "/health"
  interval: "30s"
`;

function issues(text: string): ConfigIssue[] {
  const result = validateManifestText(text, 'package.yaml');
  assert.equal(result.ok, false, 'expected the manifest to be refused');
  return result.ok ? [] : result.issues;
}

function minimal(extra: string): string {
  return `name: p\nversion: 1.0.0\nsupported_types: [process]\nprocess:\n  executable_path: bin/p\n${extra}`;
}

describe('package.yaml', () => {
  it('accepts the seeds example and fills defaults', () => {
    const manifest = parseManifestText(SEED, 'package.yaml');
    assert.equal(manifest.name, 'data-processor');
    assert.deepEqual(manifest.supported_types, ['process', 'module']);
    assert.deepEqual(manifest.process, { executable_path: 'bin/data-processor', args: ['--config', 'config.yaml'] });
    assert.deepEqual(manifest.module, { module_path: 'lib/data-processor.mjs', entry_point: 'CreateDataProcessor' });
    assert.deepEqual(manifest.dependencies, [{ name: 'libprocessor', version: '>=2.1.0' }]);
    // An endpoint alone is an HTTP check; durations become milliseconds.
    assert.deepEqual(manifest.health_check, { type: 'http', endpoint: '/health', interval: 30_000 });
  });

  it('defaults entry_point, args and dependencies, and normalizes ./ paths', () => {
    const manifest = parseManifestText('name: m\nversion: 0.1.0\nsupported_types: [module, process]\nmodule:\n  module_path: ./lib/m.mjs\nprocess:\n  executable_path: node\n');
    assert.equal(manifest.module?.entry_point, 'default');
    assert.equal(manifest.module?.module_path, 'lib/m.mjs');
    assert.deepEqual(manifest.process, { executable_path: 'node', args: [] });
    assert.deepEqual(manifest.dependencies, []);
  });

  it('reports an unknown key at its line and column with the valid keys', () => {
    const [issue, ...others] = issues(minimal('  colour: blue\n'));
    assert.deepEqual(others, []);
    assert.equal(issue?.file, 'package.yaml');
    assert.equal(issue?.line, 6);
    assert.equal(issue?.column, 3);
    assert.equal(issue?.path, 'process.colour');
    assert.deepEqual(issue?.choices, ['executable_path', 'args']);
  });

  it('reports unknown top-level keys too (strict at every level)', () => {
    const found = issues(minimal('homepage: https://example.com\n'));
    assert.deepEqual(
      found.map((i) => [i.path, i.line]),
      [['homepage', 6]],
    );
  });

  it('reports every problem in one pass, in source order', () => {
    const found = issues(`name: Data_Processor
version: 1.2
supported_types: [process, daemon]
process:
  executable_path: ../outside
dependencies:
  - name: lib
    version: "not a range"
health_check:
  type: tcp
  endpoint: /health
  interval: soon
`);
    assert.deepEqual(
      found.map((i) => [i.path, i.line]),
      [
        ['name', 1],
        ['version', 2],
        ['supported_types[1]', 3],
        ['process.executable_path', 5],
        ['dependencies[0].version', 8],
        ['health_check.endpoint', 11],
        ['health_check.interval', 12],
      ],
    );
    assert.match(found[1]?.message ?? '', /quote it/);
    assert.deepEqual(found[2]?.choices, ['process', 'module']);
  });

  it('requires a section for each supported type, and no section for an unsupported one', () => {
    assert.deepEqual(
      issues('name: p\nversion: 1.0.0\nsupported_types: [module]\nprocess:\n  executable_path: bin/p\n').map((i) => [i.path, i.message]),
      [
        ['', 'supported_types lists module, so a `module:` section is required'],
        ['process', 'a `process:` section is given but supported_types does not list process'],
      ],
    );
    assert.equal(issues('name: p\nversion: 1.0.0\nsupported_types: []\n')[0]?.path, 'supported_types');
    assert.match(issues('name: p\nversion: 1.0.0\nsupported_types: [process, process]\nprocess: { executable_path: x }\n')[0]?.message ?? '', /twice/);
  });

  it('refuses paths that leave the package or are not JS modules', () => {
    const found = issues('name: p\nversion: 1.0.0\nsupported_types: [process, module]\nprocess:\n  executable_path: /usr/bin/env\nmodule:\n  module_path: lib/a.so\n');
    assert.deepEqual(
      found.map((i) => i.path),
      ['process.executable_path', 'module.module_path'],
    );
    assert.match(found[0]?.message ?? '', /relative/);
    assert.match(found[1]?.message ?? '', /\.mjs/);
    assert.match(issues('name: p\nversion: 1.0.0\nsupported_types: [module]\nmodule: { module_path: a/../../b.mjs }\n')[0]?.message ?? '', /\.\./);
  });

  it('refuses duplicate and self dependencies', () => {
    const found = issues(minimal('dependencies:\n  - { name: p }\n  - { name: q, version: "^1" }\n  - { name: q }\n'));
    assert.deepEqual(
      found.map((i) => [i.path, i.message]),
      [
        ['dependencies[0].name', 'a package cannot depend on itself'],
        ['dependencies[2].name', 'q is listed twice'],
      ],
    );
  });

  it('reports YAML syntax errors and duplicate keys with a position', () => {
    const [syntax] = issues('name: p\nversion: [1.0.0\n');
    assert.match(syntax?.message ?? '', /YAML syntax error/);
    assert.ok((syntax?.line ?? 0) >= 2);
    const [duplicate] = issues('name: p\nname: q\n');
    assert.equal(duplicate?.line, 2);
  });

  it('throws PACKAGE_MANIFEST_INVALID with the issues in the context', () => {
    assert.throws(
      () => parseManifestText(minimal('  colour: blue\n'), 'pkg.tgz!package.yaml'),
      (error: Error & { code: string; context: { issues: ConfigIssue[] } }) => {
        assert.equal(error.code, 'HSU_ERR_PACKAGE_MANIFEST_INVALID');
        assert.equal(error.context.issues.length, 1);
        assert.match(error.message, /pkg\.tgz!package\.yaml:6:3 {2}process\.colour/);
        return true;
      },
    );
  });
});
