/**
 * What a reference page says, read with marked's lexer (GFM tables and code spans parsed the way
 * a renderer does): its YAML code blocks, every code span, and its tables with `key` and
 * `default` columns. Key paths are normalised the way the page writes them: `master.*` as is,
 * anything else relative to a worker entry (`health_check.port` is `workers.health_check.port`).
 */
import { lexer, type Token, type Tokens } from 'marked';
import { parseDocument } from 'yaml';

export interface YamlBlock {
  readonly text: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The block as data: merges applied, as the config loader reads it. */
  readonly data: unknown;
}

export interface KeyRow {
  /** The normalised path in the `key` cell. */
  readonly path: string;
  /** The `default` cell: the text of its only code span, or undefined when it is prose. */
  readonly defaultSpan: string | undefined;
  readonly defaultText: string;
}

export interface Reference {
  readonly yamlBlocks: YamlBlock[];
  /** Key paths named in code spans anywhere (prose, lists, tables, headings). */
  readonly spanPaths: Set<string>;
  /** Rows of tables whose header has a `key` column. */
  readonly keyRows: KeyRow[];
}

const PATH = /^[a-z_][a-z0-9_]*(\[\])?(\.[a-z_][a-z0-9_]*(\[\])?)*$/;

/** `health_check.port` → `workers.health_check.port`; `master.api` stays; not a key path → undefined. */
export function normalisePath(text: string): string | undefined {
  if (!PATH.test(text)) return undefined;
  const path = text.replaceAll('[]', '');
  return path === 'master' || path === 'workers' || path.startsWith('master.') || path.startsWith('workers.') ? path : `workers.${path}`;
}

export function readReference(markdown: string): Reference {
  const yamlBlocks: YamlBlock[] = [];
  const spanPaths = new Set<string>();
  const keyRows: KeyRow[] = [];
  let searchFrom = 0;
  const visit = (token: Token): void => {
    if (token.type === 'code') {
      const code = token as Tokens.Code;
      const at = markdown.indexOf(code.raw, searchFrom);
      if (at >= 0) searchFrom = at + code.raw.length;
      if (code.lang === 'yaml') {
        const doc = parseDocument(code.text, { merge: true });
        if (doc.errors.length > 0) throw new Error(`the YAML block at line ${lineAt(markdown, at)} does not parse: ${doc.errors[0]?.message ?? ''}`);
        yamlBlocks.push({ text: code.text, line: lineAt(markdown, at), data: doc.toJS({ maxAliasCount: 1000 }) as unknown });
      }
      return;
    }
    if (token.type === 'codespan') {
      const path = normalisePath((token as Tokens.Codespan).text);
      if (path !== undefined) spanPaths.add(path);
      return;
    }
    if (token.type === 'table') readTable(token as Tokens.Table, keyRows);
    for (const child of childrenOf(token)) visit(child);
  };
  for (const token of lexer(markdown)) visit(token);
  return { yamlBlocks, spanPaths, keyRows };
}

function readTable(table: Tokens.Table, rows: KeyRow[]): void {
  const columns = table.header.map((cell) => cell.text.trim().toLowerCase());
  const keyColumn = columns.indexOf('key');
  const defaultColumn = columns.indexOf('default');
  if (keyColumn < 0) return;
  for (const row of table.rows) {
    const keyCell = row[keyColumn];
    const spans = keyCell?.tokens.filter((t) => t.type === 'codespan') ?? [];
    const only = spans.length === 1 ? normalisePath((spans[0] as Tokens.Codespan).text) : undefined;
    if (only === undefined) throw new Error(`a key table row must name one key path in backticks, got: ${keyCell?.text ?? '(no cell)'}`);
    const cell = defaultColumn < 0 ? undefined : row[defaultColumn];
    const meaningful = cell?.tokens.filter((t) => !(t.type === 'text' && t.raw.trim() === '')) ?? [];
    const defaultSpan = meaningful.length === 1 && meaningful[0]?.type === 'codespan' ? (meaningful[0] as Tokens.Codespan).text : undefined;
    rows.push({ path: only, defaultSpan, defaultText: cell?.text ?? '' });
  }
}

/** Nested tokens of any token kind (inline tokens, list items, table cells). */
function childrenOf(token: Token): Token[] {
  const out: Token[] = [];
  const t = token as Partial<Tokens.Generic> & { items?: Tokens.ListItem[]; header?: Tokens.TableCell[]; rows?: Tokens.TableCell[][] };
  if (Array.isArray(t.tokens)) out.push(...(t.tokens as Token[]));
  if (Array.isArray(t.items)) out.push(...t.items);
  for (const cell of [...(t.header ?? []), ...(t.rows ?? []).flat()]) out.push(...cell.tokens);
  return out;
}

function lineAt(text: string, offset: number): number {
  return offset < 0 ? 0 : text.slice(0, offset).split('\n').length;
}

/** Key paths a YAML block writes, arrays transparent; a block without `workers` or `master` at its top is a worker fragment. */
export function yamlPaths(data: unknown): string[] {
  const out: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, path);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, item] of Object.entries(value)) {
      if (key.startsWith('x-')) continue; // fragments: their keys count where they are merged in
      const child = path === '' ? key : `${path}.${key}`;
      out.push(child);
      walk(item, child);
    }
  };
  const top = typeof data === 'object' && data !== null ? Object.keys(data) : [];
  const full = top.includes('workers') || top.includes('master');
  walk(data, full ? '' : 'workers');
  return out;
}
