// Workers from packages: `package: name:range` resolved to the installed executable or module
// file, the package's defaults under the worker's own keys, and the result run by a real Master
// as a process, an inline module and a thread module.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as z from 'zod';
import { Master, parseWorkerConfig } from '../../src/index.js';
import type { WorkerOutputEvent } from '../../src/index.js';
import { PackageStore, packageRefSchema, packagesSettingsSchema, planPackagedWorker, storeOptions, workerPackageShape } from '../../src/packages/index.js';
import type { ResolvedPackage } from '../../src/packages/index.js';
import { buildPackage, suiteScratch } from './helpers.js';

const work = suiteScratch('plan');
const repo = path.join(work.dir, 'repo');
const store = new PackageStore({ stateDir: path.join(work.dir, 'state'), repositories: [repo] });
let dual: ResolvedPackage;
let processOnly: ResolvedPackage;

before(async () => {
  await buildPackage(repo, { name: 'data-processor', version: '1.2.3', extra: 'health_check:\n  endpoint: /health\n  interval: 30s\n  failure_threshold: 2' });
  await buildPackage(repo, { name: 'libprocessor', version: '2.1.0', types: ['module'] });
  await buildPackage(repo, { name: 'cruncher', version: '0.9.0', types: ['process'], dependencies: { libprocessor: '>=2.1.0' } });
  await store.install('data-processor:1.2.3');
  await store.install('cruncher');
  dual = await store.resolve('data-processor', '^1.2');
  processOnly = await store.resolve('cruncher');
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  return 'no error';
}

describe('the package: key', () => {
  it('parses name:version and name:range, and refuses archives and bad names', () => {
    assert.deepEqual(packageRefSchema.parse('data-processor:1.2.3'), { name: 'data-processor', range: '1.2.3' });
    assert.deepEqual(packageRefSchema.parse('data-processor:^1.2'), { name: 'data-processor', range: '^1.2' });
    assert.deepEqual(packageRefSchema.parse('data-processor'), { name: 'data-processor', range: '*' });
    for (const bad of ['./dist/x-1.0.0.tgz', 'https://example.com/x.tgz', 'Data Processor:1', 'x:not-a-range']) {
      assert.equal(packageRefSchema.safeParse(bad).success, false, bad);
    }
    assert.equal(z.object({ package: packageRefSchema }).safeParse({ package: 12 }).success, false);
  });

  it('the worker keys and the master packages: section parse, and give store options', () => {
    assert.deepEqual(z.strictObject(workerPackageShape).parse({ package: 'a:^1' }), { package: { name: 'a', range: '^1' }, allow_downgrade: false, rollback_window: 60_000 });
    const settings = packagesSettingsSchema.parse({ repositories: ['repo', 'https://pkgs.example.com/'], trusted_keys: ['keys/release.pub'], idle_timeout: '5s' });
    const options = storeOptions(settings, '/state', '/etc/hsu');
    assert.deepEqual(options.repositories, ['/etc/hsu/repo', 'https://pkgs.example.com/']);
    assert.deepEqual(options.trustedKeys, ['/etc/hsu/keys/release.pub']);
    assert.deepEqual(options.limits, { idleTimeoutMs: 5000 });
    assert.equal(packagesSettingsSchema.safeParse({ mirrors: [] }).success, false);
    assert.equal(codeOf(() => storeOptions(packagesSettingsSchema.parse({ ca_file: 'missing.pem' }), '/state', work.dir)), 'HSU_ERR_CONFIG_INVALID');
  });
});

describe('planPackagedWorker', () => {
  it('a process worker runs the package executable with its args, in its root, unless overridden', () => {
    const plan = planPackagedWorker(dual, { id: 'dp-1', type: 'process', package: 'data-processor:1.2.3', stop_timeout: '3s', restart: { policy: 'always' }, health_check: { port: 8080 } });
    const worker = parseWorkerConfig(plan);
    assert.equal(worker.type, 'process');
    if (worker.type !== 'process') return;
    assert.equal(worker.execution?.executable_path, path.join(dual.root, 'bin', 'run'));
    assert.deepEqual(worker.execution?.args, ['--from-package']);
    assert.equal(worker.execution?.working_directory, dual.root);
    assert.equal(worker.execution?.environment.HSU_PACKAGE_ROOT, dual.root);
    assert.equal(worker.execution?.environment.HSU_PACKAGE_VERSION, '1.2.3');
    assert.equal(worker.stop_timeout, 3000);
    assert.equal(worker.restart.policy, 'always');
    assert.deepEqual(worker.health_check, { type: 'http', url: 'http://127.0.0.1:8080/health', interval: 30_000, timeout: 5000, failure_threshold: 2, success_threshold: 1, initial_delay: 30_000 });
    // The package's HTTP endpoint needs a port only the worker knows.
    assert.equal(codeOf(() => planPackagedWorker(dual, { id: 'dp-x', type: 'process', health_check: {} })), 'HSU_ERR_CONFIG_INVALID');
  });

  it('the worker overrides args, environment, working directory and health check keys', () => {
    const plan = planPackagedWorker(dual, {
      id: 'dp-2',
      type: 'process',
      execution: { args: ['--fast'], environment: { MODE: 'x' }, working_directory: '/tmp' },
      health_check: { port: 8081, interval: '5s' },
    });
    const worker = parseWorkerConfig(plan);
    if (worker.type !== 'process') assert.fail('expected a process worker');
    assert.deepEqual(worker.execution?.args, ['--fast']);
    assert.equal(worker.execution?.environment.MODE, 'x');
    assert.equal(worker.execution?.environment.HSU_PACKAGE_NAME, 'data-processor');
    assert.equal(worker.execution?.working_directory, '/tmp');
    assert.deepEqual(worker.health_check, { type: 'http', url: 'http://127.0.0.1:8081/health', interval: 5000, timeout: 5000, failure_threshold: 2, success_threshold: 1, initial_delay: 5000 });
    // Another probe type starts from the worker's keys alone; a url wins over the endpoint.
    const tcp = parseWorkerConfig(planPackagedWorker(dual, { id: 'dp-3', type: 'process', health_check: { type: 'tcp', port: 9000 } }));
    assert.deepEqual(tcp.health_check, { type: 'tcp', host: '127.0.0.1', port: 9000, interval: 10_000, timeout: 5000, failure_threshold: 3, success_threshold: 1, initial_delay: 10_000 });
    const url = parseWorkerConfig(planPackagedWorker(dual, { id: 'dp-4', type: 'process', health_check: { url: 'http://localhost:1/up' } }));
    assert.equal(url.health_check?.type === 'http' ? url.health_check.url : '', 'http://localhost:1/up');
  });

  it('a module worker loads the package module file and entry point as a plugin', () => {
    const worker = parseWorkerConfig(planPackagedWorker(dual, { id: 'dp-m', type: 'module', module: { isolation: 'thread', config: { port: 8081 } }, health_check: { type: 'runtime' } }));
    if (worker.type !== 'module' || worker.module.module_type !== 'plugin') assert.fail('expected a plugin module worker');
    assert.equal(worker.module.module_path, path.join(dual.root, 'lib', 'module.mjs'));
    assert.equal(worker.module.entry_point, 'create');
    assert.equal(worker.module.isolation, 'thread');
    assert.deepEqual(worker.module.config, { port: 8081 });
    assert.equal(worker.health_check?.type, 'runtime');
  });

  it('refuses a type the package does not support, naming the supported ones', () => {
    try {
      planPackagedWorker(processOnly, { id: 'c', type: 'module' });
      assert.fail('expected a refusal');
    } catch (error) {
      const err = error as Error & { code: string; context: Record<string, unknown> };
      assert.equal(err.code, 'HSU_ERR_PACKAGE_UNSUPPORTED_TYPE');
      assert.deepEqual(err.context.supported_types, ['process']);
      assert.equal(err.context.worker_id, 'c');
      assert.match(err.message, /supported_types are process/);
    }
  });

  it('refuses keys that name the code, which comes from the package', () => {
    assert.equal(codeOf(() => planPackagedWorker(processOnly, { id: 'c', type: 'process', execution: { executable_path: '/bin/sh' } as never })), 'HSU_ERR_CONFIG_INVALID');
    assert.equal(codeOf(() => planPackagedWorker(dual, { id: 'm', type: 'module', module: { module_path: 'x.mjs' } as never })), 'HSU_ERR_CONFIG_INVALID');
  });

  it('gives a process the roots of its dependencies', () => {
    const worker = parseWorkerConfig(planPackagedWorker(processOnly, { id: 'c', type: 'process' }));
    if (worker.type !== 'process') assert.fail('expected a process worker');
    assert.equal(worker.execution?.environment.HSU_PACKAGE_DEP_LIBPROCESSOR_ROOT, path.join(store.root, 'libprocessor', '2.1.0'));
  });
});

describe('one package, both deployments, in a real master', () => {
  it('runs the package as a process, an inline module and a thread module', async () => {
    const master = new Master({ logDir: path.join(work.dir, 'logs') });
    try {
      const firstLine = new Promise<WorkerOutputEvent>((resolve) => {
        master.on('output', (event) => {
          if (event.worker_id === 'as-process') resolve(event);
        });
      });
      master.addWorker(planPackagedWorker(dual, { id: 'as-process', type: 'process', health_check: { type: 'runtime' } }));
      master.addWorker(planPackagedWorker(dual, { id: 'as-inline', type: 'module', health_check: { type: 'runtime' } }));
      master.addWorker(planPackagedWorker(dual, { id: 'as-thread', type: 'module', module: { isolation: 'thread' }, health_check: { type: 'runtime' } }));
      const results = await master.start();
      assert.deepEqual(
        results.map((r) => [r.id, r.ok, r.error?.code]),
        [
          ['as-process', true, undefined],
          ['as-inline', true, undefined],
          ['as-thread', true, undefined],
        ],
      );
      assert.equal((await firstLine).line, 'run data-processor@1.2.3 --from-package');
      assert.equal(await master.call('as-inline', 'version'), '1.2.3');
      assert.equal(await master.call('as-thread', 'version'), '1.2.3');
    } finally {
      await master.shutdown();
    }
  });
});
