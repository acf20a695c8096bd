// Public face of `hsu/messaging`: the durable message log, typed commands, the executor and command workers.
export { defineCommand, CommandRegistry, encodePayload } from './commands.js';
export type { Command, CommandType, CommandInputOf, CommandOf, TypesOf, DecodeResult } from './commands.js';
export type {
  LogRecord,
  MessageLog,
  RecordsOptions,
  ConsumerStore,
  ConsumerPosition,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterState,
  NewDeadLetter,
  RedriveOutcome,
} from './message-log.js';
export { followRecords } from './records.js';
export { SqliteMessageLog } from './sqlite/sqlite-message-log.js';
export type { SqliteMessageLogOptions } from './sqlite/sqlite-message-log.js';
export { Executor } from './executor.js';
export type { ApplyFn, CheckFn, ExecutorOptions, Message } from './executor.js';
export { CommandWorker } from './worker/command-worker.js';
export { defineCommandWorker } from './worker/module.js';
export type { CommandWorkerModule } from './worker/module.js';
export type { CommandHandler, CommandWorkerOptions, HandlerContext, PeriodicContext, PeriodicWork, RetryOptions } from './worker/options.js';
export { listDeadLetters, redrive } from './dead-letters.js';
export { MESSAGING_ERROR_CODES } from './error-codes.js';
// The JetStream backend for several masters; it loads the NATS client only when a log is opened.
export { JetStreamMessageLog } from './jetstream/index.js';
export type { JetStreamMessageLogOptions } from './jetstream/index.js';
