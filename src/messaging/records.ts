/**
 * Async iteration over any {@link MessageLog}: batched reads, and with `follow` a wait on the log's
 * wake-up at the end (no polling delay). Shared by every backend.
 */
import type { LogRecord, MessageLog, RecordsOptions } from './message-log.js';

type Readable = Pick<MessageLog, 'read' | 'watch'>;

export async function* followRecords(log: Readable, after: number, options: RecordsOptions = {}): AsyncGenerator<LogRecord, void, undefined> {
  const batch = options.batch ?? 1000;
  const signal = options.signal;
  // A function, not `signal?.aborted` inline: the flag changes while the generator is suspended.
  const aborted = (): boolean => signal?.aborted === true;
  let position = after;
  let changed = true;
  let wakeUp: (() => void) | undefined;
  // Subscribed before the first read, so a commit between a read and the wait is never missed.
  const unwatch = options.follow === true ? log.watch(() => {
    changed = true;
    wakeUp?.();
  }) : undefined;
  const onAbort = (): void => wakeUp?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!aborted()) {
      changed = false;
      const records = await log.read(position, batch);
      for (const record of records) {
        yield record;
        position = record.id;
        if (aborted()) return;
      }
      if (records.length === batch) continue;
      if (unwatch === undefined) return;
      if (!changed) {
        await new Promise<void>((resolve) => {
          wakeUp = resolve;
          if (changed || aborted()) resolve();
        });
        wakeUp = undefined;
      }
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    unwatch?.();
  }
}
