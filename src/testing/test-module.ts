/**
 * testModule(file, cases): the same cases against one module file deployed inline, in a thread and
 * in its own process, each case on a fresh worker of a test master per deployment. With
 * `conformance` (the default) the cases every module should pass are added. runModuleCases is the
 * framework-free core (it returns the results); testModule registers them as tests.
 */
import path from 'node:path';
import { CONFORMANCE_CASES } from './conformance-cases.js';
import { DEPLOYMENTS, moduleWorker, modulePathOf, type Deployment } from './deployments.js';
import { detectFramework, type TestFramework } from './framework.js';
import { ModuleUnderTest } from './module-under-test.js';
import { TestMaster } from './test-master.js';

export type CaseBody = (m: ModuleUnderTest) => Promise<void> | void;

export interface CaseOptions {
  readonly run: CaseBody;
  /** This case's module config (default: the options' config). */
  readonly config?: Record<string, unknown>;
  /** Extra worker keys for this case. */
  readonly worker?: Record<string, unknown>;
  /** false: the worker is added but not started (a case about start failures starts it itself). */
  readonly start?: boolean;
  readonly deployments?: readonly Deployment[];
}

export type ModuleCase = CaseBody | CaseOptions;

export interface TestModuleOptions {
  /** The module's `config:` block. */
  readonly config?: Record<string, unknown>;
  readonly entryPoint?: string;
  /** Worker keys for every case (restart, stop_timeout, health_check...). */
  readonly worker?: Record<string, unknown>;
  /** Default all three: inline, thread, process. */
  readonly deployments?: readonly Deployment[];
  /** Add the cases every module should pass (default true). */
  readonly conformance?: boolean;
  /** node:test and vitest are detected; pass another framework's functions here. */
  readonly framework?: TestFramework;
}

export interface CaseResult {
  readonly deployment: Deployment;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: Error;
}

function normalize(entry: ModuleCase): CaseOptions {
  return typeof entry === 'function' ? { run: entry } : entry;
}

function allCases(cases: Readonly<Record<string, ModuleCase>>, options: TestModuleOptions): [string, CaseOptions][] {
  const own = Object.entries(cases).map(([name, entry]): [string, CaseOptions] => [name, normalize(entry)]);
  return options.conformance === false ? own : [...Object.entries(CONFORMANCE_CASES).map(([name, entry]): [string, CaseOptions] => [name, normalize(entry)]), ...own];
}

let counter = 0;

/** A worker id from the case name: [A-Za-z0-9_-], at most 64, unique in this process. */
function caseId(name: string): string {
  const slug = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48) || 'case';
  return `${slug}-${++counter}`;
}

/** Runs one case on a fresh worker; the worker is stopped and removed however the case ends. */
export async function runCase(harness: TestMaster, deployment: Deployment, file: string | URL, name: string, entry: CaseOptions, options: TestModuleOptions): Promise<void> {
  const id = caseId(name);
  harness.add(moduleWorker(deployment, id, file, {
    config: entry.config ?? options.config ?? {},
    ...(options.entryPoint === undefined ? {} : { entryPoint: options.entryPoint }),
    worker: { stop_timeout: '5s', ...options.worker, ...entry.worker },
  }));
  try {
    if (entry.start !== false) await harness.master.startWorker(id);
    await entry.run(new ModuleUnderTest(deployment, id, harness));
  } finally {
    const state = harness.master.getWorkerState(id);
    if (state === 'starting' || state === 'running' || state === 'waiting_restart') await harness.master.stopWorker(id, { force: true });
    await harness.master.removeWorker(id);
  }
}

/** Every case in every deployment; never throws for a failing case, it is in the results. */
export async function runModuleCases(file: string | URL, cases: Readonly<Record<string, ModuleCase>>, options: TestModuleOptions = {}): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const deployment of options.deployments ?? DEPLOYMENTS) {
    const harness = new TestMaster();
    try {
      for (const [name, entry] of allCases(cases, options)) {
        if (entry.deployments !== undefined && !entry.deployments.includes(deployment)) continue;
        try {
          await runCase(harness, deployment, file, name, entry, options);
          results.push({ deployment, name, ok: true });
        } catch (error) {
          results.push({ deployment, name, ok: false, error: error as Error });
        }
      }
    } finally {
      await harness.close().catch((error: unknown) => results.push({ deployment, name: 'cleanup', ok: false, error: error as Error }));
    }
  }
  return results;
}

/**
 * Registers `describe(<file>) > describe(<deployment>) > it(<case>)` with node:test or vitest.
 * @example
 * await testModule(new URL('../src/greeter.ts', import.meta.url), {
 *   'greets by name': async (m) => assert.equal(await m.call('greet', 'Ada'), 'Hello, Ada!'),
 * });
 */
export async function testModule(file: string | URL, cases: Readonly<Record<string, ModuleCase>>, options: TestModuleOptions = {}): Promise<void> {
  const framework = options.framework ?? (await detectFramework());
  const title = path.basename(modulePathOf(file));
  framework.describe(`module ${title}`, () => {
    for (const deployment of options.deployments ?? DEPLOYMENTS) {
      framework.describe(deployment, () => {
        let harness: TestMaster | undefined;
        framework.before(async () => {
          harness = new TestMaster();
          await Promise.resolve();
        });
        framework.after(async () => {
          await harness?.close();
        });
        for (const [name, entry] of allCases(cases, options)) {
          if (entry.deployments !== undefined && !entry.deployments.includes(deployment)) continue;
          framework.it(name, async () => {
            if (harness === undefined) throw new Error('the test master was not created (before hook did not run)');
            await runCase(harness, deployment, file, name, entry, options);
          });
        }
      });
    }
  });
}
