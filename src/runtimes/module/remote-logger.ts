/**
 * The logger a hosted module sees: pino's calling convention, but each record is posted to the
 * master, which logs it through its own logger tagged with the worker id. Records below the
 * master's level are dropped here so they never cost a message.
 */
import { serializeError } from '../../errors.js';
import { callContextHook } from '../../observability/call-context.js';
import type { ModuleLogger } from '../../worker/contract.js';
import type { FromHost, LogLevel } from '../../protocol/messages.js';

const LEVELS: Record<LogLevel | 'silent', number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

export function createRemoteLogger(post: (message: FromHost) => void, level: LogLevel | 'silent', bindings: Record<string, unknown> = {}): ModuleLogger {
  const threshold = LEVELS[level];
  const emit = (lvl: LogLevel) => (obj: unknown, msg?: string): void => {
    if (LEVELS[lvl] < threshold) return;
    let fields: Record<string, unknown>;
    let text = msg;
    if (typeof obj === 'string') {
      fields = { ...bindings };
      text = obj;
    } else if (obj instanceof Error) {
      fields = { ...bindings, err: serializeError(obj) };
      text ??= obj.message;
    } else if (typeof obj === 'object' && obj !== null) {
      fields = { ...bindings, ...cloneable(obj as Record<string, unknown>) };
    } else {
      fields = { ...bindings, value: obj };
    }
    const trace = callContextHook()?.logFields();
    if (trace !== undefined) fields = { ...fields, ...trace };
    try {
      post({ t: 'log', level: lvl, fields, msg: text });
    } catch {
      post({ t: 'log', level: lvl, fields: { ...bindings, note: 'log fields could not be cloned' }, msg: text });
    }
  };
  return {
    trace: emit('trace'),
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    fatal: emit('fatal'),
    child: (more) => createRemoteLogger(post, level, { ...bindings, ...more }),
  };
}

/** Errors nested one level deep (the common `{ err }`) are turned into plain records. */
function cloneable(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? serializeError(value) : value;
  return out;
}
