/**
 * The subscriber list every mesh part publishes through (registry changes, router and breaker
 * events, autoscaling decisions, bus topics): each subscriber gets its own {@link Mailbox}, so
 * emitting is a loop of pushes and never runs subscriber code on the emitter's stack.
 */
import { hsuError } from '../../errors.js';
import { Mailbox, type ErrorReporter, type Handler, type MailboxStats } from './mailbox.js';

export const DEFAULT_QUEUE_LIMIT = 1_000;

export interface SubscribeOptions {
  /** Events held for this subscriber before new ones are dropped (and counted). Default 1000. */
  readonly queue_limit?: number;
}

export interface Subscription {
  unsubscribe(): void;
  stats(): MailboxStats;
}

export class Observers<E> {
  private readonly boxes = new Set<Mailbox<E>>();

  constructor(private readonly onError: ErrorReporter) {}

  get size(): number {
    return this.boxes.size;
  }

  subscribe(handler: Handler<E>, options: SubscribeOptions = {}): Subscription {
    const limit = options.queue_limit ?? DEFAULT_QUEUE_LIMIT;
    if (!Number.isInteger(limit) || limit < 1) throw hsuError('CONFIG_INVALID', `queue_limit must be an integer >= 1, got ${String(limit)}`, { path: 'queue_limit', value: limit });
    const box = new Mailbox(handler, limit, this.onError);
    this.boxes.add(box);
    return {
      unsubscribe: () => {
        box.close();
        this.boxes.delete(box);
      },
      stats: () => box.stats(),
    };
  }

  emit(event: E): void {
    for (const box of this.boxes) box.push(event);
  }

  stats(): MailboxStats[] {
    return [...this.boxes].map((box) => box.stats());
  }

  close(): void {
    for (const box of this.boxes) box.close();
    this.boxes.clear();
  }
}

/** The default reporter: a subscriber's failure goes to stderr once per error, never to the emitter. */
export function warnSubscriberError(where: string): ErrorReporter {
  return (error) => process.emitWarning(`a ${where} subscriber threw: ${error instanceof Error ? error.message : String(error)}`, { code: 'HSU_MESH_SUBSCRIBER' });
}
