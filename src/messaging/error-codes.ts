/** Codes of the messaging room (`hsu/messaging`), spread into the one catalogue in src/errors.ts. */
export const MESSAGING_ERROR_CODES = {
  // commands and the registry
  COMMAND_UNKNOWN: { status: 400, summary: 'no command type with this name is registered' },
  COMMAND_INVALID: { status: 400, summary: 'command payload does not match its schema' },
  COMMAND_EXISTS: { status: 409, summary: 'a command type with this name is already registered' },
  COMMAND_REJECTED: { status: 409, summary: 'command rejected by its check against the current state' },
  // reading
  MESSAGE_UNDECODABLE: { status: 422, summary: 'stored message cannot be decoded by the registered command types' },
  MESSAGE_POISON: { status: 500, summary: 'message was in flight each time its host died' },
  // the log backend
  MESSAGE_LOG_CORRUPT: { status: 500, summary: 'message log file is not a database or is corrupt' },
  MESSAGE_LOG_BUSY: { status: 503, summary: 'message log is locked by another connection' },
  MESSAGE_LOG_FULL: { status: 507, summary: 'no space left to write the message log' },
  MESSAGE_LOG_IO: { status: 500, summary: 'message log could not be read or written' },
  MESSAGE_LOG_VERSION: { status: 500, summary: 'message log was written with another schema version' },
  MESSAGE_LOG_CLOSED: { status: 409, summary: 'message log is closed' },
  // command workers
  HANDLER_EXISTS: { status: 409, summary: 'a handler for this command is already registered on this worker' },
  HANDLER_FAILED: { status: 500, summary: 'command handler failed' },
  HANDLER_TIMEOUT: { status: 504, summary: 'command handler did not settle in time' },
  COMMAND_WORKER_INVALID: { status: 400, summary: 'command worker options are invalid' },
  COMMAND_WORKER_STARTED: { status: 409, summary: 'operation not allowed once the command worker has started' },
  DEAD_LETTER_QUERY_INVALID: { status: 400, summary: 'dead-letter query or re-drive request is invalid' },
  DEAD_LETTER_NOT_FOUND: { status: 404, summary: 'no dead letter with this id' },
  // executor
  EXECUTOR_APPLY_FAILED: { status: 500, summary: 'apply function failed for a logged command' },
} as const;
