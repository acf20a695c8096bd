// `module_path: x.ts` without a build, in every deployment: types erased by Node, local .ts imports,
// stack traces on the .ts lines, and a coded error naming what stripping cannot erase.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testModule, type ModuleUnderTest } from '../../src/testing/index.js';
import { validateConfigText } from '../../src/config/index.js';
import { ENUM_TS, GREETER_TS, HELPER_TS, JS_SPECIFIER_TS, PARAM_PROP_HELPER_TS, PARAM_PROP_TS, sourceDir } from './ts-sources.js';

const src = sourceDir({ 'greeter.ts': GREETER_TS, 'helper.ts': HELPER_TS, 'moody.ts': ENUM_TS, 'counter.ts': PARAM_PROP_HELPER_TS, 'counting.ts': PARAM_PROP_TS, 'wrong-import.ts': JS_SPECIFIER_TS });
after(() => src.remove());

async function startFails(m: ModuleUnderTest): Promise<Error & { code?: string; context?: Record<string, unknown> }> {
  try {
    await m.start();
  } catch (error) {
    return error as Error & { code?: string; context?: Record<string, unknown> };
  }
  assert.fail('the start should have failed');
}

await testModule(src.file('greeter.ts'), {
  'a .ts module with a local .ts import answers its actions': async (m) => {
    assert.deepEqual(await m.call('greet', 'Ada'), { text: 'Hello, Ada!', length: 11 });
  },
  'a stack trace points at the .ts line that threw': async (m) => {
    const error = await m.call('boom', null).then(() => undefined, (e: unknown) => e as Error);
    assert.ok(error instanceof Error);
    assert.match(error.stack ?? '', /greeter\.ts:12:\d+/, `stack: ${error.stack ?? ''}`);
  },
}, { conformance: true });

// The broken modules need their own module_path: one testModule each, no conformance cases.
for (const [file, construct, where, line] of [
  ['moody.ts', 'enum', 'moody.ts', 3],
  ['counting.ts', 'parameter property', 'counter.ts', 2],
] as const) {
  await testModule(src.file(file), {
    [`a ${construct} (in ${where}) fails the start with MODULE_TS_UNSUPPORTED_SYNTAX`]: {
      start: false,
      worker: { restart: { policy: 'never' } },
      run: async (m) => {
        const error = await startFails(m);
        assert.equal(error.code, 'HSU_ERR_MODULE_TS_UNSUPPORTED_SYNTAX');
        assert.equal(error.context?.construct, construct);
        assert.equal(error.context?.file, src.file(where));
        assert.equal(error.context?.line, line);
        assert.equal(m.diagnostics().last_error?.code, 'HSU_ERR_MODULE_TS_UNSUPPORTED_SYNTAX');
      },
    },
  }, { conformance: false });
}

await testModule(src.file('wrong-import.ts'), {
  "importing './helper.js' from a .ts file says to write './helper.ts'": {
    start: false,
    worker: { restart: { policy: 'never' } },
    run: async (m) => {
      const error = await startFails(m);
      assert.equal(error.code, 'HSU_ERR_MODULE_LOAD_FAILED');
      assert.match(error.message, /write '\.\/helper\.ts'/);
    },
  },
}, { conformance: false });

void describe('TypeScript module paths in the config', () => {
  let text = '';
  before(() => {
    text = `workers:\n  - id: g\n    type: module\n    module: { module_type: plugin, module_path: ${src.file('greeter.ts')} }\n  - id: h\n    type: process\n    module: { module_type: plugin, module_path: ${src.file('greeter.ts')} }\n`;
  });
  it('accepts .ts (and .mts, .cts) module paths and names them in the error for other extensions', () => {
    assert.equal(validateConfigText(text).ok, true);
    const wrong = validateConfigText(text.replace(/greeter\.ts/g, 'greeter.tsx'));
    assert.equal(wrong.ok, false);
    assert.match(wrong.ok ? '' : (wrong.issues[0]?.message ?? ''), /\.ts, \.mts or \.cts/);
  });
});
