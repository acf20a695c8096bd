/**
 * `hsu new <kind> <name>`: a project from the templates this package ships (no network): a
 * module, an integrated HTTP process, or a master application, each with an hsu.yaml, tests that
 * use hsu/testing, a tsconfig for `tsc`, and `npm start`. The dependency ranges are this hsu's own
 * (its version, and the TypeScript and zod it was built and tested with).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hsuError } from '../errors.js';
import { outputName, render, type TemplateValues } from './render.js';

export const PROJECT_KINDS = ['module', 'process', 'master'] as const;
export type ProjectKind = (typeof PROJECT_KINDS)[number];

export interface ScaffoldOptions {
  readonly kind: ProjectKind;
  /** The npm package name (a scope is allowed); the worker id is its last part. */
  readonly name: string;
  /** Where the project goes; default `./<last part of the name>`. */
  readonly dir?: string;
  readonly metrics?: boolean;
  readonly tracing?: boolean;
  readonly commandWorker?: boolean;
}

export interface ScaffoldResult {
  readonly dir: string;
  readonly files: readonly string[];
  readonly id: string;
}

const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    return statSync(full).isDirectory() ? walk(full, `${prefix}${entry}/`) : [`${prefix}${entry}`];
  });
}

function ownManifest(): { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> } {
  return JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as ReturnType<typeof ownManifest>;
}

export function scaffoldValues(options: ScaffoldOptions): TemplateValues {
  const manifest = ownManifest();
  const last = options.name.replace(/^@[^/]+\//, '');
  const id = last.replace(/[^A-Za-z0-9_-]+/g, '-').slice(0, 64);
  return {
    name: options.name,
    id,
    metric_prefix: id.replace(/-/g, '_'),
    hsu_range: `^${manifest.version}`,
    typescript_range: manifest.devDependencies.typescript ?? '^6.0.0',
    types_node_range: manifest.devDependencies['@types/node'] ?? '^24.0.0',
    zod_range: manifest.dependencies.zod ?? '^4.0.0',
    metrics: options.metrics === true,
    tracing: options.tracing === true,
    command_worker: options.commandWorker === true,
  };
}

export function scaffold(options: ScaffoldOptions): ScaffoldResult {
  if (!PROJECT_KINDS.includes(options.kind)) {
    throw hsuError('SCAFFOLD_KIND_UNKNOWN', `no project template '${String(options.kind)}' (choose: ${PROJECT_KINDS.join(', ')})`, { kind: options.kind, choices: PROJECT_KINDS });
  }
  if (!NAME.test(options.name) || options.name.length > 214) {
    throw hsuError('SCAFFOLD_NAME_INVALID', `'${options.name}' is not an npm package name: lowercase letters, digits, "-", "." and "_", optionally @scope/`, { name: options.name });
  }
  const values = scaffoldValues(options);
  const dir = path.resolve(options.dir ?? String(values.id));
  if (existsSync(dir) && readdirSync(dir).length > 0) throw hsuError('SCAFFOLD_TARGET_EXISTS', `${dir} exists and is not empty`, { dir });
  const layers = ['common', options.kind, ...(options.tracing === true ? ['tracing'] : []), ...(options.commandWorker === true ? ['command-worker'] : [])];
  const written: string[] = [];
  for (const layer of layers) {
    const root = path.join(TEMPLATES_DIR, layer);
    for (const relative of walk(root)) {
      const target = path.join(dir, outputName(relative, values));
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, render(readFileSync(path.join(root, relative), 'utf8'), values, `${layer}/${relative}`));
      written.push(path.relative(dir, target));
    }
  }
  return { dir, files: written.sort(), id: String(values.id) };
}
