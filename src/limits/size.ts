/**
 * Sizes in config: a number is bytes; a string is `<number><unit>` where KB/MB/GB/TB are powers of
 * 1000 and KiB/MiB/GiB/TiB powers of 1024 (as Kubernetes and IEC spell them), units case-insensitive.
 * "256MB" is 256,000,000 bytes; "256MiB" is 268,435,456.
 */
import * as z from 'zod';
import { describeValue } from '../config/describe.js';

export const SIZE_HINT = 'expected a size like "256MB", "1GiB", "512KiB" or a number of bytes';

const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;
const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** Whole bytes for `value`, or undefined when it is not a valid size. */
export function tryParseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE_PATTERN.exec(value.trim());
  if (match === null) return undefined;
  const factor = UNIT_BYTES[(match[2] ?? '').toLowerCase()];
  if (factor === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * factor);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Accepts a size (bytes or a string with unit) and outputs bytes; zero is refused. */
export const sizeSchema = z
  .custom<number | string>((value) => typeof value === 'number' || typeof value === 'string', {
    error: (issue) => `${SIZE_HINT}, got ${describeValue(issue.input)}`,
  })
  .transform((value, ctx): number => {
    const bytes = tryParseSize(value);
    if (bytes !== undefined && bytes > 0) return bytes;
    ctx.issues.push({ code: 'custom', message: bytes === 0 ? 'size must be greater than 0' : `${SIZE_HINT}, got ${describeValue(value)}`, input: value });
    return z.NEVER;
  });
