/**
 * Turns zod issues into {@link ConfigIssue}s: one user-facing sentence each (what was expected,
 * the valid choices, what was found), a `workers[1].execution.args[0]` path, and, when the
 * config came from YAML, the line and column of the offending node.
 */
import * as z from 'zod';
import { describeValue, fieldsOf } from './describe.js';
import { keyHint } from './key-hints.js';
import { closestKey } from './key-suggestion.js';

export interface ConfigIssue {
  file?: string;
  line?: number;
  column?: number;
  /** Dotted path with indexes, e.g. `workers[1].execution.args[0]`; empty for the whole document. */
  path: string;
  message: string;
  /** What the schema wanted, e.g. `string`, `duration`, `object`. */
  expected?: string;
  /** Valid values (enums, worker types) or valid keys (unknown key). */
  choices?: string[];
}

export type IssuePath = readonly PropertyKey[];

/** Finds where a path (or, with `key`, one key of the mapping at that path) sits in the source. */
export type Locator = (path: IssuePath, key?: string) => { line: number; column: number } | undefined;

export interface ConvertOptions {
  /** The schema that was parsed, used to list valid keys for unknown ones. */
  schema: z.ZodType;
  /** The data that was parsed, used to pick the branch of a discriminated union. */
  data: unknown;
  locate?: Locator;
  file?: string;
}

const EXPECTED_WORDS: Readonly<Record<string, string>> = {
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** Per-parse error map: phrases zod's generic issues the way a config author needs them. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  const got = (value: unknown): string => (value === undefined ? '' : `, got ${describeValue(value)}`);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED_WORDS[issue.expected] ?? issue.expected;
      return issue.input === undefined ? `required: expected ${expected}` : `expected ${expected}${got(issue.input)}`;
    }
    case 'invalid_value': {
      const wanted = issue.values.length === 1 ? String(issue.values[0]) : `one of ${issue.values.map(String).join(', ')}`;
      return issue.input === undefined ? `required: expected ${wanted}` : `expected ${wanted}${got(issue.input)}${meant(issue.input, issue.values)}`;
    }
    case 'invalid_union': {
      const options: unknown = issue['options'];
      if (typeof issue.discriminator !== 'string' || !Array.isArray(options)) return undefined;
      const tag = fieldsOf(issue.input)[issue.discriminator];
      const wanted = `one of: ${options.map(String).join(', ')}`;
      return tag === undefined ? `required: expected ${wanted}` : `expected ${wanted}${got(tag)}${meant(tag, options)}`;
    }
    case 'too_small':
      if (issue.origin === 'string' && Number(issue.minimum) === 1) return 'must not be empty';
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `expected a number ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}${got(issue.input)}`;
      }
      return undefined;
    case 'too_big':
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `expected a number ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}${got(issue.input)}`;
      }
      return undefined;
    default:
      return undefined;
  }
};

/** `; did you mean \`process\`?` for a string value that is a typo of one of the valid ones. */
function meant(value: unknown, valid: readonly unknown[]): string {
  if (typeof value !== 'string') return '';
  const closest = closestKey(value, valid.filter((v): v is string => typeof v === 'string'));
  return closest === undefined ? '' : `; did you mean \`${closest}\`?`;
}

/** Converts every zod issue; an unrecognized_keys issue becomes one issue per unknown key. */
export function toConfigIssues(issues: readonly z.core.$ZodIssue[], options: ConvertOptions): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const owner = schemaAt(options.schema, issue.path, options.data);
      const validKeys = owner instanceof z.ZodObject ? Object.keys(owner.shape) : [];
      for (const key of issue.keys) {
        // Where it goes (another supervisor's key), else the key it is a typo of, else every valid key.
        const hint = (owner === undefined ? undefined : keyHint(owner, key)) ?? suggestion(closestKey(key, validKeys));
        const valid = hint === undefined && validKeys.length > 0 ? validKeysSuffix(validKeys) : '';
        const message = `unknown key ${JSON.stringify(key)}${hint === undefined ? '' : `: ${hint}`}${valid}`;
        out.push(build(options, [...issue.path, key], message, key, { choices: validKeys }));
      }
      continue;
    }
    out.push(build(options, issue.path, issue.message, undefined, facts(issue)));
  }
  return out;
}

function suggestion(key: string | undefined): string | undefined {
  return key === undefined ? undefined : `did you mean \`${key}\`?`;
}

/** `workers[1].execution.args[0]`; keys that are not plain words are bracket-quoted. */
export function formatPath(path: IssuePath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) out += out === '' ? key : `.${key}`;
      else out += `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** The end of an unknown key's message when nothing closer was found: every valid key. */
function validKeysSuffix(keys: readonly string[]): string {
  return ` (valid keys: ${keys.join(', ')})`;
}

/**
 * One line per issue: `file:line:col  path  message`, leaving out the parts that are unknown. A
 * list of valid keys is printed once: a later line with the same list points back to the first
 * (the issues themselves keep their whole message, for `--json` and the API).
 */
export function formatIssues(issues: readonly ConfigIssue[]): string {
  const listedAt = new Map<string, string>();
  return issues
    .map((issue) => {
      const where = [issue.file, issue.line, issue.column].filter((part) => part !== undefined).join(':');
      let message = issue.message;
      const suffix = issue.choices === undefined ? undefined : validKeysSuffix(issue.choices);
      if (suffix !== undefined && message.endsWith(suffix)) {
        const first = listedAt.get(suffix);
        if (first === undefined) listedAt.set(suffix, issue.path);
        else message = `${message.slice(0, -suffix.length)} (valid keys as listed for ${first})`;
      }
      return [where, issue.path, message].filter((part) => part !== '').join('  ');
    })
    .join('\n');
}

function build(
  options: ConvertOptions,
  path: IssuePath,
  message: string,
  unknownKey: string | undefined,
  extra: Pick<ConfigIssue, 'expected' | 'choices'>,
): ConfigIssue {
  const issue: ConfigIssue = { path: formatPath(path), message };
  if (options.file !== undefined) issue.file = options.file;
  const position = options.locate?.(unknownKey === undefined ? path : path.slice(0, -1), unknownKey);
  if (position !== undefined) {
    issue.line = position.line;
    issue.column = position.column;
  }
  if (extra.expected !== undefined) issue.expected = extra.expected;
  if (extra.choices !== undefined && extra.choices.length > 0) issue.choices = extra.choices;
  return issue;
}

/** Machine-readable facts (expected type, valid choices) carried next to the message. */
function facts(issue: z.core.$ZodIssue): Pick<ConfigIssue, 'expected' | 'choices'> {
  switch (issue.code) {
    case 'invalid_type':
      return { expected: issue.expected };
    case 'invalid_value':
      return { choices: issue.values.map(String) };
    case 'invalid_union':
      return 'options' in issue && issue.options !== undefined ? { choices: issue.options.map(String) } : {};
    case 'custom': {
      const expected: unknown = issue.params?.['expected'];
      return typeof expected === 'string' ? { expected } : {};
    }
    default:
      return {};
  }
}

/** The schema that validates the value at `path`, following the branch `data` actually took. */
export function schemaAt(root: z.core.$ZodType, path: IssuePath, data: unknown): z.core.$ZodType | undefined {
  let schema: z.core.$ZodType | undefined = root;
  let value = data;
  for (let depth = 0; schema !== undefined; depth++) {
    schema = pickBranch(unwrap(schema), value);
    if (schema === undefined || depth === path.length) return schema;
    const segment = path[depth];
    if (schema instanceof z.ZodObject) schema = schema.shape[String(segment)];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType;
    else return undefined;
    value = Array.isArray(value) && typeof segment === 'number' ? value[segment] : fieldsOf(value)[String(segment)];
  }
  return undefined;
}

/** Strips wrappers that do not change which keys an object accepts. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault || current instanceof z.ZodNullable) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

/** For a discriminated union, the option whose tag matches the data; other schemas pass through. */
function pickBranch(schema: z.core.$ZodType, value: unknown): z.core.$ZodType | undefined {
  if (!(schema instanceof z.ZodDiscriminatedUnion)) return schema;
  const discriminator = schema.def.discriminator;
  const tag = fieldsOf(value)[discriminator];
  return schema.options.map(unwrap).find((option) => {
    const tagSchema = option instanceof z.ZodObject ? option.shape[discriminator] : undefined;
    return tagSchema instanceof z.ZodLiteral && tagSchema.values.has(tag as never);
  });
}
