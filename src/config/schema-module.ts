/**
 * The `module` block: which code a module worker runs. Native modules are factories registered in
 * the master's own code; plugin modules are files imported by path. A process worker can host a
 * plugin in a child process (the "same module, other place" promise), never a native factory.
 */
import * as z from 'zod';
import { DEFAULTS } from './defaults.js';
import { describeValue, fieldsOf, isRecord } from './describe.js';
import { withKeyHints } from './key-hints.js';
import { yamlString } from './schema-common.js';

export const MODULE_TYPES = ['native', 'plugin'] as const;
export const ISOLATIONS = ['inline', 'thread'] as const;

export const NATIVE_ELSEWHERE =
  "a native factory is registered in the master's code and cannot be loaded in another thread or process; use module_type: plugin with module_path";
const INLINE_NOT_LIMITED =
  "inline modules share the master's heap and cannot be limited (use isolation: thread)";

export const resourceLimitsSchema = z.strictObject({
  max_old_generation_mb: z.number().positive().optional(),
  max_young_generation_mb: z.number().positive().optional(),
  stack_size_mb: z.number().positive().optional(),
});

// TypeScript files run without a build: Node strips their types when it imports them.
const modulePathSchema = yamlString.regex(/\.(mjs|js|cjs|ts|mts|cts)$/, {
  error: (issue) => `expected a path to a .mjs, .js, .cjs, .ts, .mts or .cts file, got ${describeValue(issue.input)}`,
});

/** Settings both module kinds share. */
const commonShape = {
  config: z.record(z.string(), z.unknown()).prefault({}),
  isolation: z.enum(ISOLATIONS).default(DEFAULTS.module.isolation),
  resource_limits: resourceLimitsSchema.optional(),
};

const nativeModuleSchema = withKeyHints(
  z.strictObject({
    module_type: z.literal('native'),
    module_name: yamlString.min(1),
    ...commonShape,
  }),
  {
    module_path: 'module_path is only for module_type: plugin (a native module is found by module_name)',
    entry_point: 'entry_point is only for module_type: plugin',
  },
);

const pluginShape = {
  module_type: z.literal('plugin'),
  module_path: modulePathSchema,
  entry_point: yamlString.min(1).default(DEFAULTS.module.entry_point),
};

const pluginModuleSchema = withKeyHints(z.strictObject({ ...pluginShape, ...commonShape }), {
  module_name: 'module_name is only for module_type: native (a plugin is found by module_path)',
});

/** The `module` block of a `type: module` worker. */
export const moduleBlockSchema = z
  .discriminatedUnion('module_type', [nativeModuleSchema, pluginModuleSchema])
  .superRefine(
    (parsed, ctx) => {
      const block = fieldsOf(parsed);
      const isolation = block.isolation ?? DEFAULTS.module.isolation;
      if (block.module_type === 'native' && isolation === 'thread') {
        ctx.addIssue({ code: 'custom', path: ['module_type'], message: NATIVE_ELSEWHERE });
      }
      if (isolation === 'inline' && block.resource_limits !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['resource_limits'], message: INLINE_NOT_LIMITED });
      }
    },
    // Runs even when a sibling field failed, so every problem is reported in one pass.
    { when: (payload) => isRecord(payload.value) },
  );

/** The `module` block of a `type: process` worker: a plugin hosted in a child process. */
export const hostedModuleSchema = withKeyHints(
  z.strictObject({
    ...pluginShape,
    module_type: z.literal('plugin', {
      error: (issue) => (issue.input === 'native' ? NATIVE_ELSEWHERE : undefined),
    }),
    config: commonShape.config,
    resource_limits: commonShape.resource_limits,
  }),
  {
    isolation: 'isolation is not allowed for a process worker: it already runs in its own process',
    module_name: 'module_name is not allowed for a process worker: only plugin modules (module_path) can be hosted in a child process',
  },
);
