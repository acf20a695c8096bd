/**
 * `package.yaml`: what a package is and how it runs, in the seeds' shape. One package may support
 * both deployments: `process:` names an executable, `module:` a JS module file and its export.
 * Unknown keys are errors, as in the main config. The zod schema is the one source of the types.
 */
import * as z from 'zod';
import { describeValue, fieldsOf, isRecord } from '../../config/describe.js';
import { durationSchema } from '../../config/duration.js';
import { yamlString } from '../../config/schema-common.js';
import { inPackagePathProblem, isBareCommand, isExactVersion, isPackageName, isVersionRange, normalizeInPackagePath } from './rules.js';

export const PACKAGE_TYPES = ['process', 'module'] as const;
export type PackageType = (typeof PACKAGE_TYPES)[number];
export const PACKAGE_HEALTH_TYPES = ['runtime', 'http', 'tcp'] as const;

export const packageNameSchema = yamlString.refine(isPackageName, {
  error: (issue) => `expected a package name of 1-64 lowercase letters, digits, ".", "_" or "-" starting with a letter or digit, got ${describeValue(issue.input)}`,
});

export const exactVersionSchema = yamlString.refine(isExactVersion, {
  error: (issue) => `expected a semantic version like "1.2.3" or "2.0.0-rc.1", got ${describeValue(issue.input)}`,
});

export const versionRangeSchema = yamlString.refine(isVersionRange, {
  error: (issue) => `expected a semver range like ">=2.1.0", "^1.2.0" or "1.x", got ${describeValue(issue.input)}`,
});

/** A file inside the package, written relative to its root; normalized (`./a` -> `a`). */
const inPackagePath = (what: string, extra?: (value: string) => string | undefined) =>
  yamlString
    .superRefine((value, ctx) => {
      const problem = inPackagePathProblem(value) ?? extra?.(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${what} ${problem}, got ${describeValue(value)}` });
    })
    .transform(normalizeInPackagePath);

const processSectionSchema = z.strictObject({
  /** A path inside the package (`bin/server`), or a bare command looked up in PATH (`node`). */
  executable_path: yamlString.min(1).superRefine((value, ctx) => {
    if (isBareCommand(value)) return;
    const problem = inPackagePathProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `executable_path ${problem}, got ${describeValue(value)}` });
  }).transform((value) => (isBareCommand(value) ? value : normalizeInPackagePath(value))),
  args: z.array(yamlString).prefault([]),
});

const JS_MODULE = /\.(mjs|js|cjs)$/;
const moduleSectionSchema = z.strictObject({
  module_path: inPackagePath('module_path', (value) => (JS_MODULE.test(value) ? undefined : 'must be a .mjs, .js or .cjs file')),
  entry_point: yamlString.min(1).default('default'),
});

const dependencySchema = z.strictObject({
  name: packageNameSchema,
  version: versionRangeSchema.default('*'),
});

/** Defaults for the worker's health check; a worker's own `health_check` keys override these. */
export const packageHealthCheckSchema = z
  .strictObject({
    type: z.enum(PACKAGE_HEALTH_TYPES).optional(),
    /** HTTP path probed on the worker, e.g. `/health` (the seeds' name for it). */
    endpoint: yamlString.startsWith('/', { error: (issue) => `expected a path starting with "/", got ${describeValue(issue.input)}` }).optional(),
    host: yamlString.min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    interval: durationSchema.optional(),
    timeout: durationSchema.optional(),
    failure_threshold: z.number().int().min(1).optional(),
  })
  .superRefine(
    (value, ctx) => {
      const check = fieldsOf(value);
      if (check.endpoint !== undefined && check.type !== undefined && check.type !== 'http') {
        ctx.addIssue({ code: 'custom', path: ['endpoint'], message: `endpoint is only used when type is http (type is ${String(check.type)})` });
      }
    },
    { when: (payload) => isRecord(payload.value) },
  )
  // An endpoint alone means an HTTP check, as in the seeds' example.
  .transform((check) => ({ ...check, type: check.type ?? (check.endpoint === undefined ? 'runtime' : 'http') }));

export const packageManifestSchema = z
  .strictObject({
    name: packageNameSchema,
    version: exactVersionSchema,
    description: yamlString.optional(),
    supported_types: z
      .array(z.enum(PACKAGE_TYPES))
      .min(1, { error: `expected at least one of ${PACKAGE_TYPES.join(', ')}` })
      .refine((types) => new Set(types).size === types.length, { error: 'lists a type twice' }),
    process: processSectionSchema.optional(),
    module: moduleSectionSchema.optional(),
    dependencies: z.array(dependencySchema).prefault([]),
    health_check: packageHealthCheckSchema.optional(),
  })
  .superRefine(
    (value, ctx) => {
      const manifest = fieldsOf(value);
      const types = Array.isArray(manifest.supported_types) ? (manifest.supported_types as unknown[]) : [];
      for (const type of PACKAGE_TYPES) {
        const listed = types.includes(type);
        if (listed && manifest[type] === undefined) {
          ctx.addIssue({ code: 'custom', path: [], message: `supported_types lists ${type}, so a \`${type}:\` section is required` });
        } else if (!listed && manifest[type] !== undefined && Array.isArray(manifest.supported_types)) {
          ctx.addIssue({ code: 'custom', path: [type], message: `a \`${type}:\` section is given but supported_types does not list ${type}` });
        }
      }
      const deps = Array.isArray(manifest.dependencies) ? manifest.dependencies : [];
      const seen = new Set<unknown>();
      deps.forEach((dep, index) => {
        const name = fieldsOf(dep).name;
        if (name !== undefined && name === manifest.name) {
          ctx.addIssue({ code: 'custom', path: ['dependencies', index, 'name'], message: 'a package cannot depend on itself' });
        } else if (name !== undefined && seen.has(name)) {
          ctx.addIssue({ code: 'custom', path: ['dependencies', index, 'name'], message: `${String(name)} is listed twice` });
        }
        seen.add(name);
      });
    },
    // Runs even when a sibling field failed, so every problem is reported in one pass.
    { when: (payload) => isRecord(payload.value) },
  );

export type PackageManifest = z.output<typeof packageManifestSchema>;
export type PackageManifestInput = z.input<typeof packageManifestSchema>;
export type PackageHealthCheck = z.output<typeof packageHealthCheckSchema>;
export type PackageDependency = PackageManifest['dependencies'][number];
