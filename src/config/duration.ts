/**
 * Durations in config: a number is milliseconds, a string is `<number><unit>` with unit ms, s, m
 * or h ("250ms", "1.5s", "5m"). Everything downstream sees plain milliseconds.
 */
import * as z from 'zod';
import { hsuError } from '../errors.js';
import { describeValue } from './describe.js';

export const DURATION_HINT = 'expected a duration like "10s", "250ms", "5m" or a number of milliseconds';

/** Node's timers hold at most 2^31-1 ms (~24.8 days); a longer one silently fires after 1 ms. */
export const MAX_DURATION_MS = 2_147_483_647;

const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds for `value`, or undefined when it is not a valid duration. */
export function tryParseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = DURATION_PATTERN.exec(value);
  if (match === null) return undefined;
  const [, amount, unit] = match;
  const ms = Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  return Number.isFinite(ms) ? ms : undefined;
}

/** Milliseconds for `value`; throws CONFIG_INVALID naming the accepted forms otherwise. */
export function parseDuration(value: unknown): number {
  const ms = tryParseDuration(value);
  if (ms === undefined) throw hsuError('CONFIG_INVALID', `${DURATION_HINT}, got ${describeValue(value)}`, { value });
  return ms;
}

/** Accepts a duration (number of ms or string with unit) and outputs milliseconds. */
export const durationSchema = z
  .custom<number | string>((value) => typeof value === 'number' || typeof value === 'string', {
    error: (issue) => `${DURATION_HINT}, got ${describeValue(issue.input)}`,
    params: { expected: 'duration' },
  })
  .transform((value, ctx): number => {
    const ms = tryParseDuration(value);
    if (ms !== undefined && ms > MAX_DURATION_MS) {
      ctx.issues.push({ code: 'custom', message: `duration ${describeValue(value)} is too long: at most 2147483647 ms (about 24 days)`, input: value, params: { expected: 'duration' } });
      return z.NEVER;
    }
    if (ms !== undefined) return ms;
    ctx.issues.push({ code: 'custom', message: `${DURATION_HINT}, got ${describeValue(value)}`, input: value, params: { expected: 'duration' } });
    return z.NEVER;
  });

/** A duration that must be greater than zero (timeouts, intervals). */
export const positiveDurationSchema = durationSchema.refine((ms) => ms > 0, { message: 'must be greater than 0' });
