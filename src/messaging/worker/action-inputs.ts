/** Inputs of a command worker's actions (`dead_letters`, `redrive`), which arrive from master.call in any deployment. */
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import type { DeadLetterQuery } from '../message-log.js';

const deadLettersSchema = z
  .strictObject({
    state: z.enum(['dead', 'redrive', 'redriven']).optional(),
    after: z.number().int().nonnegative().optional(),
    limit: z.number().int().positive().max(10_000).optional(),
  })
  .optional();

const redriveSchema = z
  .strictObject({
    /** Message ids to re-drive; absent means every dead letter of this worker. */
    message_ids: z.array(z.number().int().positive()).min(1).optional(),
  })
  .optional();

function parse<T>(schema: z.ZodType<T>, worker: string, action: string, input: unknown): T {
  const parsed = schema.safeParse(input ?? undefined);
  if (parsed.success) return parsed.data;
  throw hsuError('DEAD_LETTER_QUERY_INVALID', `command worker '${worker}': invalid input to ${action}: ${z.prettifyError(parsed.error)}`, {
    worker,
    action,
    issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  });
}

export function deadLettersInput(worker: string, input: unknown): DeadLetterQuery {
  const q = parse(deadLettersSchema, worker, 'dead_letters', input) ?? {};
  return { ...(q.state === undefined ? {} : { state: q.state }), ...(q.after === undefined ? {} : { after: q.after }), ...(q.limit === undefined ? {} : { limit: q.limit }) };
}

export function redriveInput(worker: string, input: unknown): number[] | undefined {
  return parse(redriveSchema, worker, 'redrive', input)?.message_ids;
}
