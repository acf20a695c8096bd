/**
 * Every key of every object schema reachable from a root zod schema, by path: what a user can
 * write in YAML. Wrappers (optional, default, prefault, pipe, …), unions, arrays and records are
 * walked through; a zod type this walk does not know fails loudly, so a new kind of wrapper
 * cannot hide the keys beneath it.
 */
import type * as z from 'zod';

export interface SchemaKey {
  /** Dotted path, arrays transparent: `workers.health_check.port`. */
  readonly path: string;
  /** Every schema found at this path (one per union branch that has the key). */
  readonly schemas: z.core.$ZodType[];
}

export interface SchemaKeys {
  readonly keys: ReadonlyMap<string, SchemaKey>;
  /** Paths whose value is a record (`execution.environment`): any key below them is the user's own. */
  readonly openMaps: ReadonlySet<string>;
}

/** Types with no keys below them. */
const LEAVES = new Set(['string', 'number', 'int', 'boolean', 'bigint', 'date', 'enum', 'literal', 'custom', 'transform', 'unknown', 'any', 'null', 'undefined', 'never', 'nan', 'file', 'template_literal']);

export function schemaKeys(root: z.core.$ZodType): SchemaKeys {
  const keys = new Map<string, { path: string; schemas: z.core.$ZodType[] }>();
  const openMaps = new Set<string>();
  const walk = (schema: z.core.$ZodType, path: string, stack: ReadonlySet<z.core.$ZodType>): void => {
    if (stack.has(schema)) return; // a recursive schema: its keys were seen on the way down
    const inner = new Set(stack).add(schema);
    const def = (schema as z.core.$ZodTypes)._zod.def;
    switch (def.type) {
      case 'object':
        for (const [key, value] of Object.entries(def.shape)) {
          const child = path === '' ? key : `${path}.${key}`;
          const entry = keys.get(child) ?? { path: child, schemas: [] };
          entry.schemas.push(value);
          keys.set(child, entry);
          walk(value, child, inner);
        }
        if (def.catchall !== undefined && (def.catchall as z.core.$ZodTypes)._zod.def.type !== 'never') openMaps.add(path);
        return;
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'nonoptional':
      case 'readonly':
      case 'catch':
      case 'success':
      case 'promise':
        return walk(def.innerType, path, inner);
      case 'pipe':
        walk(def.in, path, inner);
        return walk(def.out, path, inner);
      case 'union':
        for (const option of def.options) walk(option, path, inner);
        return;
      case 'intersection':
        walk(def.left, path, inner);
        return walk(def.right, path, inner);
      case 'array':
        return walk(def.element, path, inner);
      case 'set':
        return walk(def.valueType, path, inner);
      case 'tuple':
        for (const item of def.items) walk(item, path, inner);
        if (def.rest !== null) walk(def.rest, path, inner);
        return;
      case 'record':
      case 'map':
        openMaps.add(path);
        return walk(def.valueType, `${path}.*`, inner);
      case 'lazy':
        return walk(def.getter(), path, inner);
      default:
        if (!LEAVES.has(def.type)) throw new Error(`schema walk: zod type '${def.type}' at '${path}' is not handled; teach test/docs/schema-keys.ts to look inside it`);
    }
  };
  walk(root, '', new Set());
  return { keys, openMaps };
}

/** The default a key takes when it is left out, or undefined when it has none (optional, required). */
export function defaultOf(schema: z.core.$ZodType): { value: unknown } | undefined {
  const result = (schema as z.ZodType).safeParse(undefined);
  return result.success && result.data !== undefined ? { value: result.data } : undefined;
}

/** How a path is shown to a reader: the worker list as a list. */
export function displayPath(path: string): string {
  return path.startsWith('workers.') ? `workers[].${path.slice('workers.'.length)}` : path;
}
