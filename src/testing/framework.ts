/**
 * The few calls testModule needs from a test framework. node:test and vitest are found on their
 * own (vitest sets VITEST in the environment of its workers); any other passes its functions.
 */
export interface TestFramework {
  describe(name: string, body: () => void): unknown;
  it(name: string, body: () => Promise<void>): unknown;
  /** Once before the tests of the enclosing describe (node:test `before`, vitest `beforeAll`). */
  before(body: () => Promise<void>): unknown;
  /** Once after them (node:test `after`, vitest `afterAll`). */
  after(body: () => Promise<void>): unknown;
}

export async function detectFramework(): Promise<TestFramework> {
  if (process.env.VITEST !== undefined) {
    // A string variable: vitest is the user's dependency, not hsu's, and must not be resolved at build time.
    const name = 'vitest';
    const vitest = (await import(name)) as { describe: TestFramework['describe']; it: TestFramework['it']; beforeAll: TestFramework['before']; afterAll: TestFramework['after'] };
    return { describe: vitest.describe, it: vitest.it, before: vitest.beforeAll, after: vitest.afterAll };
  }
  const nodeTest = await import('node:test');
  return {
    describe: (name, body) => nodeTest.describe(name, body),
    it: (name, body) => nodeTest.it(name, body),
    before: (body) => nodeTest.before(body),
    after: (body) => nodeTest.after(body),
  };
}
