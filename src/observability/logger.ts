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
  // Synchronous writes: a crash must not lose the last lines explaining it.
  return pino({ level, base: undefined }, pino.destination({ dest: options.destination ?? 1, sync: true }));
}
