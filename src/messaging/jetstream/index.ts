// The JetStream backend of the MessageLog interface: command workers on several hosts share one log.
// Loads the NATS client only when a log is opened.
export { JetStreamMessageLog, type JetStreamMessageLogOptions } from './jetstream-message-log.js';
export { JetStreamConsumerStore } from './consumer-store.js';
export { logNames, type LogNames } from './names.js';
