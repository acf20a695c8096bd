// Public face of `hsu/testing`: a test master with waits and guaranteed cleanup, testModule across
// the three deployments, and misbehaving processes to test supervision settings against.
export { TestMaster, createTestMaster } from './test-master.js';
export type { TestMasterOptions } from './test-master.js';
export { DEFAULT_WAIT_MS } from './waits.js';
export type { WaitOptions } from './waits.js';
export { LogCapture } from './log-capture.js';
export type { LogRecord } from './log-capture.js';
export { TEST_MARKER_VARIABLE } from './process-tracker.js';
export { testModule, runModuleCases } from './test-module.js';
export type { CaseBody, CaseOptions, CaseResult, ModuleCase, TestModuleOptions } from './test-module.js';
export { ModuleUnderTest } from './module-under-test.js';
export { CONFORMANCE_CASES } from './conformance-cases.js';
export { DEPLOYMENTS, moduleWorker } from './deployments.js';
export type { Deployment, ModuleWorkerOptions } from './deployments.js';
export type { TestFramework } from './framework.js';
export { misbehaving, misbehavingWorker, fixturePath } from './fixtures.js';
export type { FixtureExecution } from './fixtures.js';
