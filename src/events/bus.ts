/**
 * The asynchronous event bus everything observes (logs, API streams, metrics, tracing, the
 * registry). Publishing never runs a subscriber: events are queued and delivered in order on a
 * microtask, so a subscriber can never re-enter the code that published (a controller in the
 * middle of a transition), and one that throws or rejects never breaks the publisher or the
 * other subscribers.
 */
export type Listener<E> = (event: E) => unknown;

export interface BusErrorReport {
  readonly event: string;
  readonly error: unknown;
}

export class EventBus<Events extends { [K in keyof Events]: unknown }> {
  private readonly listeners = new Map<keyof Events, Set<Listener<never>>>();
  private queue: { name: keyof Events; event: unknown }[] = [];
  private scheduled = false;

  /** `onError` hears of subscribers that threw or rejected; it must not throw itself. */
  constructor(private readonly onError: (report: BusErrorReport) => void = () => undefined) {}

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (set === undefined) this.listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const set = this.listeners.get(name);
    if (set === undefined) return;
    set.delete(listener as Listener<never>);
    if (set.size === 0) this.listeners.delete(name);
  }

  /**
   * The next event of `name` (optionally the next one matching `filter`). Aborting `signal` removes
   * the listener (the promise then never settles): a waiter that gave up leaves nothing behind.
   */
  once<K extends keyof Events>(name: K, filter?: (event: Events[K]) => boolean, signal?: AbortSignal): Promise<Events[K]> {
    return new Promise((resolve) => {
      if (signal?.aborted === true) return;
      const off = this.on(name, (event) => {
        if (filter !== undefined && !filter(event)) return;
        off();
        signal?.removeEventListener('abort', off);
        resolve(event);
      });
      signal?.addEventListener('abort', off, { once: true });
    });
  }

  /** True when someone listens: publishers of high-volume events (output lines) skip the work otherwise. */
  has(name: keyof Events): boolean {
    return this.listeners.has(name);
  }

  emit<K extends keyof Events>(name: K, event: Events[K]): void {
    if (!this.listeners.has(name)) return;
    this.queue.push({ name, event });
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.flush());
  }

  listenerCount(name: keyof Events): number {
    return this.listeners.get(name)?.size ?? 0;
  }

  removeAll(): void {
    this.listeners.clear();
  }

  private flush(): void {
    // Events published by subscribers during the flush join this queue, in order.
    for (let i = 0; i < this.queue.length; i++) {
      const { name, event } = this.queue[i]!;
      const set = this.listeners.get(name);
      if (set === undefined) continue;
      for (const listener of [...set]) this.deliver(String(name), listener as Listener<unknown>, event);
    }
    this.queue = [];
    this.scheduled = false;
  }

  private deliver(name: string, listener: Listener<unknown>, event: unknown): void {
    try {
      const result = listener(event);
      if (result instanceof Promise) result.catch((error: unknown) => this.report(name, error));
    } catch (error) {
      this.report(name, error);
    }
  }

  private report(event: string, error: unknown): void {
    try {
      this.onError({ event, error });
    } catch {
      // the error reporter itself failed: nothing sensible is left to do
    }
  }
}
