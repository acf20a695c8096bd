/**
 * Reading and validating configuration: YAML text or file in, either a fully parsed config with
 * resolved paths or every problem at once, each pinned to a line and column.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Document, LineCounter, YAMLError } from 'yaml';
import { hsuError } from '../errors.js';
import { yamlLib } from '../lazy-libs.js';
import { ENV_SELECTOR, applyEnvironment, applyToWorker, selectedEnvironment } from './environments.js';
import { dropExtensionKeys, interpolate } from './interpolate.js';
import { configErrorMap, formatIssues, formatPath, toConfigIssues } from './issues.js';
import type { ConfigIssue, IssuePath, Locator } from './issues.js';
import { resolveConfigPaths, resolveWorkerPaths } from './resolve.js';
import { WORKER_TYPES, commonWorkerFieldsSchema, hsuConfigSchema, workerConfigSchema } from './schema.js';
import type { HsuConfig, WorkerConfig } from './schema.js';

export { formatIssues } from './issues.js';
export type { ConfigIssue } from './issues.js';

export type ValidationResult =
  | { ok: true; config: HsuConfig; /** Where a key path sits in the source, for problems found later (preflight). */ locate: (path: IssuePath) => { line: number; column: number } | undefined }
  | { ok: false; issues: ConfigIssue[] };

export interface ValidateOptions {
  /** Variables for `${VAR}` interpolation; default process.env. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Validates YAML text. Relative paths in the result are resolved against the directory of `file`
 * (or the current directory when no file is named). YAML merge keys (`<<: *defaults`) are
 * honoured, `x-` keys (at the top and in worker entries) hold shared fragments and are not
 * config, and `${VAR}` references in values are interpolated from the environment.
 */
export function validateConfigText(text: string, file?: string, options: ValidateOptions = {}): ValidationResult {
  const read = readConfigData(text, file, options);
  return read.ok ? checkConfigData(read, file) : read;
}

/** The config as data, before the schema: YAML parsed, merges applied, `x-` keys dropped, `${VAR}` interpolated. */
export interface ConfigData {
  readonly ok: true;
  data: unknown;
  readonly locate: Locator;
  /** Problems found so far (interpolation), located. */
  readonly issues: ConfigIssue[];
  /** The environment overlay named by HSU_ENV in the variables the file was read with. */
  readonly selectedEnv?: string | undefined;
}

/** A step between reading and checking, e.g. expanding `package:` workers from the package store. */
export type ConfigExpansion = (data: unknown) => Promise<{ data: unknown; issues: { path: IssuePath; message: string }[] }>;

export function readConfigData(text: string, file: string | undefined, options: ValidateOptions = {}): ConfigData | { ok: false; issues: ConfigIssue[] } {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  if (doc.errors.length > 0) {
    return { ok: false, issues: doc.errors.map((error) => syntaxIssue(error, lineCounter, file)) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return { ok: false, issues: [withFile({ line: 1, column: 1, path: '', message: `cannot read YAML: ${String(error)}` }, file)] };
  }
  const locate = yamlLocator(doc, lineCounter);
  const interpolated = interpolate(dropExtensionKeys(raw), options.env ?? process.env);
  const issues: ConfigIssue[] = interpolated.issues.map((issue) => located({ path: formatPath(issue.path), message: issue.message }, locate(issue.path), file));
  const selectedEnv = selectedEnvironment(options.env ?? process.env, undefined);
  return { ok: true, data: interpolated.value, locate, issues, selectedEnv };
}

/** Reads, expands (asynchronously: packages) and checks a config file. */
export async function validateConfigFileExpanded(file: string, expand: ConfigExpansion, options: ValidateOptions = {}): Promise<ValidationResult> {
  const read = readConfigData(readConfigText(file), file, options);
  if (!read.ok) return read;
  const expanded = await expand(read.data);
  read.data = expanded.data;
  read.issues.push(...expanded.issues.map((issue) => located({ path: formatPath(issue.path), message: issue.message }, read.locate(issue.path), file)));
  return checkConfigData(read, file);
}

/** Checks config data against the schema; every problem at once, located. */
export function checkConfigData(read: ConfigData, file: string | undefined): ValidationResult {
  const { data, locate } = read;
  const issues = [...read.issues];
  const result = hsuConfigSchema.safeParse(data, { error: configErrorMap });
  if (!result.success) {
    // A value already reported (an unset ${VAR}) is not reported again for what it became.
    const reported = new Set(read.issues.map((issue) => issue.path));
    const found = [...toConfigIssues(result.error.issues, { schema: hsuConfigSchema, data, locate, file }), ...untypedWorkerIssues(data, locate, file)];
    issues.push(...found.filter((issue) => !reported.has(issue.path)));
  }
  if (issues.length > 0 || !result.success) return { ok: false, issues: sortByPosition(issues) };
  const selected = selectedEnvironment({ [ENV_SELECTOR]: read.selectedEnv }, result.data.master.env);
  const overlaid = applyEnvironment(result.data, selected, read.selectedEnv !== undefined);
  if (overlaid.issues.length > 0) {
    return { ok: false, issues: overlaid.issues.map((issue) => located(issue, issue.path === '' ? undefined : locate(['master', 'env']), file)) };
  }
  const baseDir = file === undefined ? process.cwd() : path.dirname(path.resolve(file));
  return { ok: true, config: resolveConfigPaths(overlaid.config, baseDir), locate: (p) => locate(p) };
}

/** Entries whose `type` is missing or wrong: their other fields are still checked. */
function untypedWorkerIssues(data: unknown, locate: Locator, file: string | undefined): ConfigIssue[] {
  const workers = (data as { workers?: unknown } | null)?.workers;
  if (!Array.isArray(workers)) return [];
  const out: ConfigIssue[] = [];
  workers.forEach((entry: unknown, index) => {
    const type = (entry as { type?: unknown } | null)?.type;
    if (typeof entry !== 'object' || entry === null || (WORKER_TYPES as readonly unknown[]).includes(type)) return;
    const parsed = commonWorkerFieldsSchema.safeParse(entry, { error: configErrorMap });
    if (parsed.success) return;
    const prefixed = parsed.error.issues.map((issue) => ({ ...issue, path: ['workers', index, ...issue.path] }));
    out.push(...toConfigIssues(prefixed, { schema: hsuConfigSchema, data, locate, ...(file === undefined ? {} : { file }) }));
  });
  return out;
}

function located(issue: ConfigIssue, position: { line: number; column: number } | undefined, file: string | undefined): ConfigIssue {
  return withFile(position === undefined ? issue : { ...issue, line: position.line, column: position.column }, file);
}

/** Validates a YAML file; throws CONFIG_NOT_FOUND when it cannot be read. */
export function validateConfigFile(file: string, options: ValidateOptions = {}): ValidationResult {
  return validateConfigText(readConfigText(file), file, options);
}

/** Loads a YAML file; throws CONFIG_INVALID listing every issue, or CONFIG_NOT_FOUND. */
export function loadConfigFile(file: string): HsuConfig {
  const result = validateConfigFile(file);
  if (!result.ok) throw invalidConfig(`invalid configuration in ${file}`, result.issues, { file });
  return result.config;
}

/** Validates an already-parsed config object (no line numbers); paths resolve against baseDir. */
export function parseConfig(input: unknown, baseDir: string = process.cwd()): HsuConfig {
  const result = hsuConfigSchema.safeParse(input, { error: configErrorMap });
  if (!result.success) {
    throw invalidConfig('invalid configuration', toConfigIssues(result.error.issues, { schema: hsuConfigSchema, data: input }));
  }
  const overlaid = applyEnvironment(result.data, selectedEnvironment(process.env, result.data.master.env), false);
  if (overlaid.issues.length > 0) throw invalidConfig('invalid configuration', overlaid.issues);
  return resolveConfigPaths(overlaid.config, baseDir);
}

/** Validates one worker entry (as given to `master.addWorker`); paths resolve against baseDir. */
export function parseWorkerConfig(input: unknown, baseDir: string = process.cwd()): WorkerConfig {
  const result = workerConfigSchema.safeParse(input, { error: configErrorMap });
  if (!result.success) {
    const id = typeof input === 'object' && input !== null ? (input as { id?: unknown }).id : undefined;
    const title = typeof id === 'string' ? `invalid worker config ${JSON.stringify(id)}` : 'invalid worker config';
    throw invalidConfig(title, toConfigIssues(result.error.issues, { schema: workerConfigSchema, data: input }));
  }
  return resolveWorkerPaths(applyToWorker(result.data, selectedEnvironment(process.env, undefined)), baseDir);
}

function invalidConfig(title: string, issues: ConfigIssue[], context: Record<string, unknown> = {}): Error {
  const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
  const lines = formatIssues(issues)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return hsuError('CONFIG_INVALID', `${title} (${count}):\n${lines}`, { ...context, issues });
}

function readConfigText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw hsuError('CONFIG_NOT_FOUND', `configuration file not found: ${path.resolve(file)}`, { file }, error);
    }
    throw hsuError('CONFIG_INVALID', `cannot read configuration file ${file}: ${(error as Error).message}`, { file }, error);
  }
}

function syntaxIssue(error: YAMLError, lineCounter: LineCounter, file: string | undefined): ConfigIssue {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  return withFile({ line, column: col, path: '', message: `YAML syntax error: ${error.message}` }, file);
}

/** Points at the deepest node that exists along the path; for an unknown key, at the key itself. */
function yamlLocator(doc: Document, lineCounter: LineCounter): Locator {
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const { isMap, isNode, isScalar } = yamlLib();
  return (issuePath: IssuePath, key?: string) => {
    for (let depth = issuePath.length; depth >= 0; depth--) {
      const node: unknown = depth === 0 ? doc.contents : doc.getIn(issuePath.slice(0, depth), true);
      if (!isNode(node) || node.range == null) continue;
      if (key !== undefined && depth === issuePath.length && isMap(node)) {
        const pair = node.items.find((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === key);
        if (isNode(pair?.key) && pair.key.range != null) return position(pair.key.range[0]);
      }
      return position(node.range[0]);
    }
    return { line: 1, column: 1 };
  };
}

function withFile(issue: ConfigIssue, file: string | undefined): ConfigIssue {
  return file === undefined ? issue : { file, ...issue };
}

/** Source order reads best; issues without a position keep their relative order at the end. */
function sortByPosition(issues: ConfigIssue[]): ConfigIssue[] {
  const key = (issue: ConfigIssue): [number, number] => [issue.line ?? Number.MAX_SAFE_INTEGER, issue.column ?? 0];
  // Array.prototype.sort is stable, so equal positions keep zod's order.
  return [...issues].sort((a, b) => {
    const [lineA, colA] = key(a);
    const [lineB, colB] = key(b);
    return lineA - lineB || colA - colB;
  });
}
