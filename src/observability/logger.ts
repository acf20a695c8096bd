/**
 * The master's logger: pretty lines for a person at a terminal, one JSON object per line for
 * everything else (files, pipes, log shippers).
 */
import pino, { type Logger, type LevelWithSilent } from 'pino';

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Force a format; default: pretty when stdout is a TTY. */
  readonly format?: 'pretty' | 'json';
  /** Destination for JSON output (default stdout, fd 1). */
  readonly destination?: number | string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  if (format === 'pretty') {
    return pino({
      level,
      base: undefined,
      // One line per record, the worker id up front: what a person scanning a terminal needs.
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'HH:MM:ss.l', singleLine: true, ignore: 'worker', messageFormat: '{if worker}[{worker}] {end}{msg}' },
      },
    });
  }
  // Asynchronous and bounded: a slow reader of our stdout (a stalled pipe, a paused pager) must
  // never block the supervisor's loop, and through it the children whose output we drain. Past
  // 16 MiB of backlog lines are dropped (they are still in the per-worker log files); whatever is
  // buffered is flushed synchronously at exit, so a crash keeps the lines explaining it.
  const destination = pino.destination({ dest: options.destination ?? 1, sync: false, maxLength: 16 * 1024 * 1024 });
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // stdout already gone: nothing left to tell
    }
  });
  return pino({ level, base: undefined }, destination);
}
