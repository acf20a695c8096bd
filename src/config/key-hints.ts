/**
 * Extra words for specific unknown keys ("execution is only for type: process"), attached to the
 * object schema that rejects them so the message is written next to the rule it explains.
 */
import type * as z from 'zod';

const hints = new WeakMap<z.core.$ZodType, Readonly<Record<string, string>>>();

/** Registers hints on `schema` and returns it unchanged (use on the final, refined instance). */
export function withKeyHints<T extends z.core.$ZodType>(schema: T, keyHints: Readonly<Record<string, string>>): T {
  hints.set(schema, keyHints);
  return schema;
}

export function keyHint(schema: z.core.$ZodType, key: string): string | undefined {
  return hints.get(schema)?.[key];
}
