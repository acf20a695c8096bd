// Small building blocks shared by the config schemas.
import * as z from 'zod';
import { describeValue } from './describe.js';

/** A string that tells YAML users to quote numbers and booleans, which YAML would not keep as text. */
export const yamlString = z.string({
  error: (issue) => {
    // Also consulted for checks added later (min, regex) that have no message of their own.
    if (issue.code !== 'invalid_type') return undefined;
    const value = issue.input;
    if (typeof value === 'number' || typeof value === 'boolean') {
      return `expected a string, got ${typeof value} ${String(value)}; quote it in YAML: "${String(value)}"`;
    }
    return issue.input === undefined ? undefined : `expected a string, got ${describeValue(value)}`;
  },
});
