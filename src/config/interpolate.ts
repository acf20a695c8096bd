/**
 * `${VAR}` in config values, as docker compose users know it: `${VAR}` (an error when unset),
 * `${VAR:-default}` (default when unset or empty), `${VAR-default}` (default when unset),
 * `${VAR:?message}` / `${VAR?message}` (an error saying `message`), and `$$` for a literal `$`.
 * Only string values are interpolated, after YAML parsing, so line numbers stay true. A `$` not
 * followed by `{` or `$` is kept as written (shell snippets in args keep their `$HOME`).
 */
import type { IssuePath } from './issues.js';

export interface InterpolationIssue {
  readonly path: IssuePath;
  readonly message: string;
}

const PATTERN = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\{([^}]*)\})/g;

/** Interpolates every string in `data` (a tree from YAML); returns the new tree and every problem. */
export function interpolate(data: unknown, env: NodeJS.ProcessEnv): { value: unknown; issues: InterpolationIssue[] } {
  const issues: InterpolationIssue[] = [];
  const walk = (value: unknown, path: IssuePath): unknown => {
    if (typeof value === 'string') return value.includes('$') ? substitute(value, env, (message) => issues.push({ path, message })) : value;
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = walk(item, [...path, key]);
      return out;
    }
    return value;
  };
  return { value: walk(data, []), issues };
}

function substitute(text: string, env: NodeJS.ProcessEnv, fail: (message: string) => void): string {
  return text.replace(PATTERN, (match, name: string | undefined, operator: string | undefined, operand: string | undefined, bad: string | undefined) => {
    if (match === '$$') return '$';
    if (name === undefined) {
      fail(`invalid variable reference ${JSON.stringify(`\${${bad ?? ''}}`)}: expected \${NAME}, \${NAME:-default} or \${NAME:?message}`);
      return match;
    }
    const value = env[name];
    const unset = value === undefined;
    const empty = unset || value === '';
    switch (operator) {
      case ':-':
        return empty ? (operand ?? '') : value;
      case '-':
        return unset ? (operand ?? '') : value;
      case ':?':
      case '?':
        if (operator === ':?' ? empty : unset) {
          fail(`environment variable ${name} is ${unset ? 'not set' : 'empty'}: ${operand || 'required'}`);
          return match;
        }
        return value ?? '';
      default:
        if (unset) {
          fail(`environment variable ${name} is not set (write \${${name}:-default} for a default)`);
          return match;
        }
        return value;
    }
  });
}

/** Keys starting with `x-` hold shared fragments (anchors for `<<` merges), as in docker compose; they are not config. */
export function isExtensionKey(key: string): boolean {
  return key.startsWith('x-');
}

/** Drops `x-` keys from the top level and from each worker entry. */
export function dropExtensionKeys(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (isExtensionKey(key)) continue;
    out[key] = key === 'workers' && Array.isArray(value) ? value.map(dropOwnExtensionKeys) : value;
  }
  return out;
}

function dropOwnExtensionKeys(entry: unknown): unknown {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
  return Object.fromEntries(Object.entries(entry).filter(([key]) => !isExtensionKey(key)));
}
