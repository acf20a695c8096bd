/**
 * A typed publish/subscribe bus within one process. Topics are typed by a map (TS generics) and
 * may carry a zod schema each, checked on publish and on delivery from a transport. Publishing
 * never runs subscriber code: each subscriber has its own bounded mailbox (see Mailbox), so a
 * slow or throwing subscriber holds back or breaks only itself.
 *
 * Crossing threads, processes or hosts is a transport's job: `forward` receives every local
 * publication as a plain, structured-clone-safe {@link Envelope}; the other side hands envelopes
 * to `deliver`, which dispatches locally and does not forward again (no loops).
 *
 * @example
 * const bus = createEventBus({ 'orders.created': z.object({ id: z.string() }) });
 * bus.subscribe('orders.created', (order) => console.log(order.id));
 * bus.publish('orders.created', { id: 'o-1' });
 */
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import { parseBlock } from '../config.js';
import { Observers, warnSubscriberError, type SubscribeOptions, type Subscription } from './observers.js';
import type { MailboxStats } from './mailbox.js';

export interface Envelope<P = unknown> {
  readonly topic: string;
  readonly payload: P;
  /** `origin:sequence`, unique per bus. */
  readonly id: string;
  /** Which bus published it (a master, a module): transports use it to drop their own echoes. */
  readonly origin: string;
  readonly published_at: number;
}

export type TopicMap = Record<string, unknown>;
export type TopicSchemas = Record<string, z.ZodType>;
export type TopicsOf<S extends TopicSchemas> = { [K in keyof S]: z.output<S[K]> };

export interface EventBusOptions<T extends TopicMap> {
  /** Payload schemas per topic. With schemas, publishing to a topic without one is refused (BUS_TOPIC_UNKNOWN). */
  readonly schemas?: { readonly [K in keyof T]?: z.ZodType<T[K]> };
  /** Default `local`. */
  readonly origin?: string;
  /** Default per-subscriber queue limit. Default 1000. */
  readonly queue_limit?: number;
  /** Receives every local publication, for a transport to carry elsewhere. A throwing forward is reported, not raised. */
  readonly forward?: (envelope: Envelope) => void;
  readonly on_subscriber_error?: (error: unknown) => void;
  readonly now?: () => number;
}

export interface TopicStats {
  readonly published: number;
  readonly delivered_from_transport: number;
  readonly subscribers: readonly MailboxStats[];
}

const topicSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'expected a topic of 1-128 of [A-Za-z0-9_.:-]');
const envelopeSchema = z.object({ topic: topicSchema, payload: z.unknown(), id: z.string().min(1), origin: z.string().min(1), published_at: z.number() });

interface Topic {
  readonly observers: Observers<Envelope>;
  published: number;
  fromTransport: number;
}

export class EventBus<T extends TopicMap = TopicMap> {
  private readonly topics = new Map<string, Topic>();
  private readonly origin: string;
  private readonly now: () => number;
  private readonly reportError: (error: unknown) => void;
  private sequence = 0;
  private forwardFailures = 0;
  private closed = false;

  constructor(private readonly options: EventBusOptions<T> = {}) {
    this.origin = options.origin ?? 'local';
    this.now = options.now ?? Date.now;
    this.reportError = options.on_subscriber_error ?? warnSubscriberError('bus');
  }

  /** Validates, dispatches to local subscribers (asynchronously) and forwards; returns the envelope. */
  publish<K extends keyof T & string>(topic: K, payload: T[K]): Envelope<T[K]> {
    this.assertOpen();
    const checked = this.check(topic, payload) as T[K];
    const envelope: Envelope<T[K]> = { topic, payload: checked, id: `${this.origin}:${++this.sequence}`, origin: this.origin, published_at: this.now() };
    const entry = this.topics.get(topic);
    if (entry !== undefined) {
      entry.published++;
      entry.observers.emit(envelope);
    }
    const forward = this.options.forward;
    if (forward !== undefined) {
      try {
        forward(envelope);
      } catch (error) {
        this.forwardFailures++;
        this.reportError(error);
      }
    }
    return envelope;
  }

  /** Hands an envelope from a transport to local subscribers; it is validated as untrusted input and not forwarded again. */
  deliver(envelope: unknown): void {
    this.assertOpen();
    const parsed = parseBlock(envelopeSchema, envelope, 'envelope', 'BUS_PAYLOAD_INVALID');
    const payload = this.check(parsed.topic, parsed.payload);
    const entry = this.topics.get(parsed.topic);
    if (entry === undefined) return;
    entry.fromTransport++;
    entry.observers.emit({ ...parsed, payload });
  }

  subscribe<K extends keyof T & string>(topic: K, handler: (payload: T[K], envelope: Envelope<T[K]>) => void | Promise<void>, options: SubscribeOptions = {}): Subscription {
    this.assertOpen();
    this.checkTopic(topic);
    let entry = this.topics.get(topic);
    if (entry === undefined) {
      entry = { observers: new Observers(this.reportError), published: 0, fromTransport: 0 };
      this.topics.set(topic, entry);
    }
    const limit = options.queue_limit ?? this.options.queue_limit;
    return entry.observers.subscribe((envelope) => handler(envelope.payload as T[K], envelope as Envelope<T[K]>), limit === undefined ? {} : { queue_limit: limit });
  }

  stats(): { topics: Record<string, TopicStats>; forward_failures: number } {
    const topics: Record<string, TopicStats> = {};
    for (const [name, entry] of this.topics) topics[name] = { published: entry.published, delivered_from_transport: entry.fromTransport, subscribers: entry.observers.stats() };
    return { topics, forward_failures: this.forwardFailures };
  }

  /** Drops every subscriber and what they had pending; later publishes throw MESH_CLOSED. */
  close(): void {
    this.closed = true;
    for (const entry of this.topics.values()) entry.observers.close();
    this.topics.clear();
  }

  private check(topic: string, payload: unknown): unknown {
    const schema = this.checkTopic(topic);
    return schema === undefined ? payload : parseBlock(schema, payload, `topic ${topic}`, 'BUS_PAYLOAD_INVALID');
  }

  private checkTopic(topic: string): z.ZodType | undefined {
    if (!topicSchema.safeParse(topic).success) throw hsuError('BUS_TOPIC_UNKNOWN', `invalid topic name ${JSON.stringify(topic)}: expected 1-128 of [A-Za-z0-9_.:-]`, { topic });
    const schemas = this.options.schemas as Record<string, z.ZodType | undefined> | undefined;
    if (schemas === undefined) return undefined;
    const schema = schemas[topic];
    if (schema === undefined) throw hsuError('BUS_TOPIC_UNKNOWN', `no schema for topic '${topic}' (topics: ${Object.keys(schemas).join(', ')})`, { topic, topics: Object.keys(schemas) });
    return schema;
  }

  private assertOpen(): void {
    if (this.closed) throw hsuError('MESH_CLOSED', 'the event bus is closed');
  }
}

/** A bus whose topic types are inferred from their zod schemas. */
export function createEventBus<S extends TopicSchemas>(schemas: S, options: Omit<EventBusOptions<TopicsOf<S>>, 'schemas'> = {}): EventBus<TopicsOf<S>> {
  return new EventBus<TopicsOf<S>>({ ...options, schemas: schemas as EventBusOptions<TopicsOf<S>>['schemas'] });
}
