// Public face of the bus: typed topics, per-subscriber mailboxes, the transport envelope.
export { EventBus, createEventBus, type Envelope, type EventBusOptions, type TopicMap, type TopicSchemas, type TopicStats, type TopicsOf } from './event-bus.js';
export { DEFAULT_QUEUE_LIMIT, type SubscribeOptions, type Subscription } from './observers.js';
export type { MailboxStats } from './mailbox.js';
