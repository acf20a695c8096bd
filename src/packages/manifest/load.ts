/**
 * Reading `package.yaml`: YAML text in, a validated manifest out, or every problem at once, each
 * with file:line:col and key path, worded like the main config's errors (same issue converter).
 */
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { hsuError } from '../../errors.js';
import type { HsuError } from '../../errors.js';
import { configErrorMap, formatIssues, toConfigIssues } from '../../config/issues.js';
import type { ConfigIssue, IssuePath, Locator } from '../../config/issues.js';
import { packageManifestSchema } from './schema.js';
import type { PackageManifest } from './schema.js';

export const MANIFEST_FILE = 'package.yaml';

export type ManifestResult = { ok: true; manifest: PackageManifest } | { ok: false; issues: ConfigIssue[] };

/** Validates manifest text; `file` only labels the issues. */
export function validateManifestText(text: string, file?: string): ManifestResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const label = (issue: ConfigIssue): ConfigIssue => (file === undefined ? issue : { file, ...issue });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((error) => {
        const { line, col } = lineCounter.linePos(error.pos[0]);
        return label({ line, column: col, path: '', message: `YAML syntax error: ${error.message}` });
      }),
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { ok: false, issues: [label({ line: 1, column: 1, path: '', message: `cannot read YAML: ${(error as Error).message}` })] };
  }
  const result = packageManifestSchema.safeParse(data, { error: configErrorMap });
  if (result.success) return { ok: true, manifest: result.data };
  const issues = toConfigIssues(result.error.issues, { schema: packageManifestSchema, data, locate: positionsOf(doc, lineCounter), ...(file === undefined ? {} : { file }) });
  return { ok: false, issues: inSourceOrder(issues) };
}

/** Validates manifest text; throws PACKAGE_MANIFEST_INVALID listing every issue. */
export function parseManifestText(text: string, file?: string, context: Record<string, unknown> = {}): PackageManifest {
  const result = validateManifestText(text, file);
  if (result.ok) return result.manifest;
  throw manifestError(result.issues, file, context);
}

export function manifestError(issues: ConfigIssue[], file: string | undefined, context: Record<string, unknown> = {}): HsuError {
  const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
  const lines = formatIssues(issues)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  return hsuError('PACKAGE_MANIFEST_INVALID', `invalid ${file ?? MANIFEST_FILE} (${count}):\n${lines}`, { ...context, issues });
}

/**
 * Indexes the start of every node and mapping key once, then answers with the deepest known
 * position along an issue's path (for an unknown key: the key itself).
 */
function positionsOf(doc: Document, lineCounter: LineCounter): Locator {
  const nodes = new Map<string, number>();
  const keys = new Map<string, number>();
  const walk = (node: unknown, at: readonly PropertyKey[]): void => {
    if (!isNode(node) || node.range == null) return;
    nodes.set(JSON.stringify(at), node.range[0]);
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (isNode(pair.key) && pair.key.range != null) keys.set(JSON.stringify([...at, key]), pair.key.range[0]);
        walk(pair.value, [...at, key]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item, [...at, index]));
    }
  };
  walk(doc.contents, []);
  const position = (offset: number): { line: number; column: number } => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return (issuePath: IssuePath, key?: string) => {
    const keyOffset = key === undefined ? undefined : keys.get(JSON.stringify([...issuePath, key]));
    if (keyOffset !== undefined) return position(keyOffset);
    for (let depth = issuePath.length; depth >= 0; depth--) {
      const offset = nodes.get(JSON.stringify(issuePath.slice(0, depth)));
      if (offset !== undefined) return position(offset);
    }
    return { line: 1, column: 1 };
  };
}

function inSourceOrder(issues: ConfigIssue[]): ConfigIssue[] {
  const line = (issue: ConfigIssue): number => issue.line ?? Number.MAX_SAFE_INTEGER;
  // Array.prototype.sort is stable: issues at one position keep zod's order.
  return [...issues].sort((a, b) => line(a) - line(b) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * Reads and validates `<root>/package.yaml`. It must be a regular file (not a link) of at most
 * `maxBytes`; issues are labelled `<source>!package.yaml`.
 */
export async function readManifestFile(root: string, source: string, maxBytes: number): Promise<PackageManifest> {
  const file = path.join(root, MANIFEST_FILE);
  let info;
  try {
    info = await lstat(file);
  } catch (error) {
    throw hsuError('PACKAGE_MANIFEST_MISSING', `${source} has no ${MANIFEST_FILE} at its root`, { source }, error);
  }
  if (!info.isFile()) throw hsuError('PACKAGE_MANIFEST_MISSING', `${source}: ${MANIFEST_FILE} is not a regular file`, { source });
  if (info.size > maxBytes) throw hsuError('PACKAGE_TOO_LARGE', `${source}: ${MANIFEST_FILE} is larger than ${maxBytes} bytes`, { source, limit: maxBytes });
  return parseManifestText(await readFile(file, 'utf8'), `${source}!${MANIFEST_FILE}`, { source });
}
