/**
 * Request bodies: JSON only, every failure coded. A syntax error names its position (offset, line,
 * column): V8 names it for most mistakes but not all ("Unexpected token '}'"), so the position is
 * found by bisecting for the shortest prefix that is not the start of some valid JSON text.
 */
import type * as z from 'zod';
import { hsuError } from '../errors.js';
import { configErrorMap, toConfigIssues } from '../config/issues.js';

/** Parses `text` (empty means `{}`), throwing API_BAD_JSON with the position of the mistake. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const position = errorOffset(text);
    const { line, column } = lineColumn(text, position);
    const near = text.slice(Math.max(0, position - 20), position + 20);
    throw hsuError('API_BAD_JSON', `request body is not valid JSON at line ${line} column ${column} (offset ${position}): ${reason(error as Error)}`, { position, line, column, near });
  }
}

/** Validates a parsed body against `schema`; API_BAD_REQUEST with each problem's key path. */
export function validateBody<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value, { error: configErrorMap });
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues, { schema, data: value });
  throw hsuError('API_BAD_REQUEST', `invalid ${what}: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`, { issues });
}

/** V8's reason without the position (given separately) and without the quoted input, which can be the whole body. */
function reason(error: Error): string {
  return error.message.replace(/ in JSON at position.*$/, '').replace(/, ".*" is not valid JSON$/s, '');
}

/** The offset of the first character that makes `text` invalid JSON. */
function errorOffset(text: string): number {
  if (validPrefix(text)) return text.length; // cut short: what is missing is at the end
  // validPrefix is monotone: once a prefix cannot be continued into valid JSON, no longer one can.
  let lo = 0; // valid
  let hi = text.length; // invalid
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (validPrefix(text.slice(0, mid))) lo = mid;
    else hi = mid;
  }
  return hi - 1;
}

function validPrefix(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return true;
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes('end of JSON input')) return true;
    const at = /at position (\d+)/.exec(message);
    // An error at the very end means "more input was expected", so the prefix itself is fine.
    return at !== null && Number(at[1]) >= prefix.length;
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line += 1;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}
