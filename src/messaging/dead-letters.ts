/** Dead letters as library functions, for any log backend (the CLI's `hsu messages dead|redrive` later). */
import { hsuError } from '../errors.js';
import type { DeadLetter, DeadLetterQuery, MessageLog } from './message-log.js';

/** The dead letters of one consumer (a command worker's name), oldest message first. */
export function listDeadLetters(log: Pick<MessageLog, 'consumers'>, consumer: string, query?: DeadLetterQuery): Promise<DeadLetter[]> {
  return log.consumers.listDeadLetters(consumer, query);
}

/**
 * Marks dead letters of `consumer` for another delivery by the running worker (all of them when
 * `messageIds` is absent). Throws DEAD_LETTER_NOT_FOUND, marking none, when a given id has no
 * dead letter in state 'dead'. Resolves with how many were marked.
 */
export async function redrive(log: Pick<MessageLog, 'consumers'>, consumer: string, messageIds?: readonly number[]): Promise<number> {
  if (messageIds !== undefined) {
    const missing: number[] = [];
    for (const id of messageIds) {
      const [letter] = await log.consumers.listDeadLetters(consumer, { after: id - 1, limit: 1 });
      if (letter?.message_id !== id || letter.state !== 'dead') missing.push(id);
    }
    if (missing.length > 0) {
      throw hsuError('DEAD_LETTER_NOT_FOUND', `consumer '${consumer}' has no dead letter waiting for message(s) ${missing.join(', ')}`, { consumer, missing });
    }
  }
  return log.consumers.requestRedrive(consumer, messageIds);
}
