/**
 * One subscription to the bus per event type, however many clients stream it: each event is
 * numbered and serialized once into an SSE frame that every interested stream queues as is (ten
 * clients cost one JSON.stringify, not ten). The hub subscribes to a type when its first stream
 * asks for it and unsubscribes when the last one leaves, so an idle API holds no listener.
 */
import type { EventBus } from '../events/bus.js';
import type { Master } from '../master/master.js';
import type { MasterEvents } from '../master/events.js';
import type { ControlEvents } from './host.js';

export const EVENT_TYPES = ['state', 'exit', 'restart', 'health', 'added', 'removed', 'scale', 'cluster', 'output', 'reload'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

interface Subscriber {
  readonly worker: string | undefined;
  readonly deliver: (frame: Uint8Array) => void;
}

const encoder = new TextEncoder();

export class EventHub {
  private readonly subscribers = new Map<EventType, Set<Subscriber>>();
  private readonly offs = new Map<EventType, () => void>();
  private seq = 0;

  constructor(
    private readonly master: Master,
    private readonly controlEvents?: EventBus<ControlEvents>,
  ) {}

  /** Streams `types` (only `worker`'s events when given) to `deliver`; returns the unsubscribe. */
  subscribe(types: Iterable<EventType>, worker: string | undefined, deliver: (frame: Uint8Array) => void): () => void {
    const subscriber: Subscriber = { worker, deliver };
    const joined: EventType[] = [];
    for (const type of types) {
      let set = this.subscribers.get(type);
      if (set === undefined) {
        const off = this.listen(type);
        if (off === undefined) continue; // no control-event bus: nothing of this type will come
        this.offs.set(type, off);
        this.subscribers.set(type, (set = new Set()));
      }
      set.add(subscriber);
      joined.push(type);
    }
    return () => {
      for (const type of joined) {
        const set = this.subscribers.get(type);
        set?.delete(subscriber);
        if (set?.size === 0) {
          this.subscribers.delete(type);
          this.offs.get(type)?.();
          this.offs.delete(type);
        }
      }
    };
  }

  private listen(type: EventType): (() => void) | undefined {
    const fanOut = (event: unknown): void => this.fanOut(type, event);
    if (type === 'reload') return this.controlEvents?.on('reload', fanOut);
    return this.master.on(type as keyof MasterEvents, fanOut);
  }

  private fanOut(type: EventType, event: unknown): void {
    const set = this.subscribers.get(type);
    if (set === undefined) return;
    let frame: Uint8Array | undefined;
    const workerId = (event as { worker_id?: unknown }).worker_id;
    for (const subscriber of [...set]) {
      if (subscriber.worker !== undefined && subscriber.worker !== workerId) continue;
      frame ??= encoder.encode(`event: ${type}\nid: ${++this.seq}\ndata: ${JSON.stringify(event)}\n\n`);
      subscriber.deliver(frame);
    }
  }
}
