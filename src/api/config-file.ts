/**
 * Reads a config file for `hsu run` and for reload: the `master.api` block through its own schema,
 * everything else through the core validator. Interim: once `master.api` is part of
 * `masterSettingsSchema` this file shrinks to a call of `validateConfigFile`.
 *
 * The block is blanked out of the text (same length, newlines kept) rather than deleted, so every
 * line and column the core validator reports still points into the file as written.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Pair } from 'yaml';
import { validateConfigText, type ConfigIssue, type HsuConfig } from '../config/index.js';
import { interpolate } from '../config/interpolate.js';
import { configErrorMap, toConfigIssues } from '../config/issues.js';
import { hsuError } from '../errors.js';
import { apiSettingsSchema, type ApiSettings } from './config.js';

export type RunConfigResult = { readonly ok: true; readonly config: HsuConfig; readonly api: ApiSettings } | { readonly ok: false; readonly issues: ConfigIssue[] };

const API_PATH = ['master', 'api'] as const;

/** Validates `file`; throws CONFIG_NOT_FOUND when it cannot be read. */
export function validateRunConfigFile(file: string, env: NodeJS.ProcessEnv = process.env): RunConfigResult {
  return validateRunConfigText(readText(file), file, env);
}

export function validateRunConfigText(text: string, file: string, env: NodeJS.ProcessEnv = process.env): RunConfigResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const pair = doc.errors.length === 0 ? apiPair(doc) : undefined;
  if (pair === undefined) {
    // No block (or a syntax error the core validator reports with its position).
    const core = validateConfigText(text, file, { env });
    return core.ok ? { ok: true, config: core.config, api: apiSettingsSchema.parse({}) } : core;
  }
  const api = parseApiBlock(doc, lineCounter, file, env);
  const core = validateConfigText(withoutPair(text, doc, pair), file, { env });
  const issues = [...(api.ok ? [] : api.issues), ...(core.ok ? [] : core.issues)];
  if (!api.ok || !core.ok) return { ok: false, issues: issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity)) };
  return { ok: true, config: core.config, api: api.value };
}

/** As {@link validateRunConfigFile}, throwing CONFIG_INVALID with every issue. */
export function loadRunConfigFile(file: string): { config: HsuConfig; api: ApiSettings } {
  const result = validateRunConfigFile(file);
  if (!result.ok) {
    const lines = result.issues.map((i) => `  ${[i.file, i.line, i.column].filter((p) => p !== undefined).join(':')}  ${i.path}  ${i.message}`).join('\n');
    throw hsuError('CONFIG_INVALID', `invalid configuration in ${file} (${result.issues.length} issue${result.issues.length === 1 ? '' : 's'}):\n${lines}`, { file, issues: result.issues });
  }
  return { config: result.config, api: result.api };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const key = code === 'ENOENT' || code === 'ENOTDIR' ? 'CONFIG_NOT_FOUND' : 'CONFIG_INVALID';
    throw hsuError(key, key === 'CONFIG_NOT_FOUND' ? `configuration file not found: ${path.resolve(file)}` : `cannot read configuration file ${file}: ${(error as Error).message}`, { file }, error);
  }
}

function apiPair(doc: Document): Pair | undefined {
  const master = doc.get('master', true);
  if (!isMap(master)) return undefined;
  return master.items.find((item) => (isScalar(item.key) ? item.key.value : item.key) === 'api');
}

function parseApiBlock(doc: Document, lineCounter: LineCounter, file: string, env: NodeJS.ProcessEnv): { ok: true; value: ApiSettings } | { ok: false; issues: ConfigIssue[] } {
  let raw: unknown;
  try {
    raw = (doc.toJS({ maxAliasCount: 1000 }) as { master?: { api?: unknown } } | null)?.master?.api;
  } catch (error) {
    return { ok: false, issues: [{ file, line: 1, column: 1, path: 'master.api', message: `cannot read YAML: ${String(error)}` }] };
  }
  const interpolated = interpolate(raw ?? {}, env);
  const locate = (issuePath: readonly PropertyKey[]): { line: number; column: number } | undefined => {
    for (let depth = issuePath.length; depth >= 0; depth--) {
      const node = doc.getIn([...API_PATH, ...issuePath.slice(0, depth)], true) as { range?: [number, number, number] } | undefined;
      if (node?.range != null) {
        const { line, col } = lineCounter.linePos(node.range[0]);
        return { line, column: col };
      }
    }
    return undefined;
  };
  const issues: ConfigIssue[] = interpolated.issues.map((issue) => ({ file, ...locate(issue.path), path: formatApiPath(issue.path), message: issue.message }));
  const parsed = apiSettingsSchema.safeParse(interpolated.value, { error: configErrorMap });
  if (!parsed.success) {
    const converted = toConfigIssues(parsed.error.issues, { schema: apiSettingsSchema, data: interpolated.value, locate, file });
    // A value whose variable is unset was already reported; its leftover `${VAR}` text is not a second problem.
    const unset = new Set(issues.map((issue) => issue.path));
    const located = converted.map((issue) => ({ ...issue, path: issue.path === '' ? 'master.api' : `master.api.${issue.path}` }));
    issues.push(...located.filter((issue) => !unset.has(issue.path)));
  }
  return parsed.success && issues.length === 0 ? { ok: true, value: parsed.data } : { ok: false, issues };
}

function formatApiPath(issuePath: readonly PropertyKey[]): string {
  return ['master', 'api', ...issuePath.map(String)].join('.');
}

/**
 * The text without the `api:` pair. In block style the pair's characters become spaces (a `{}`
 * where it was the only key, so `master:` stays a mapping); flow style or anchors the blanking
 * would break fall back to re-serialising without the pair (positions after it may then shift).
 */
function withoutPair(text: string, doc: Document, pair: Pair): string {
  const master = doc.get('master', true);
  const key = pair.key as { range?: [number, number, number] } | null;
  const value = pair.value as { range?: [number, number, number] } | null;
  const start = key?.range?.[0];
  const end = value?.range?.[1] ?? key?.range?.[1];
  if (isMap(master) && !master.flow && start !== undefined && end !== undefined) {
    const blank = text.slice(start, end).replace(/[^\n]/g, ' ');
    const only = master.items.length === 1;
    const blanked = `${text.slice(0, start)}${only ? `{}${blank.slice(2)}` : blank}${text.slice(end)}`;
    if (readable(blanked)) return blanked;
  }
  const copy = doc.clone();
  copy.deleteIn([...API_PATH]);
  return copy.toString();
}

function readable(text: string): boolean {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) return false;
  try {
    doc.toJS({ maxAliasCount: 1000 });
    return true;
  } catch {
    return false;
  }
}
