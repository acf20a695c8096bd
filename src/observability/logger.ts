/**
 * The master's logger: pretty lines for a person at a terminal, one JSON object per line for
 * everything else (files, pipes, log shippers). Both go through a bounded sink, so a stalled
 * reader never blocks the master; pretty printing is loaded only when it is used.
 */
import pino, { type LevelWithSilent, type Logger } from 'pino';
import { StdoutSink } from './stdout-sink.js';
import { lazyTraceLogMixin } from './trace-log-fields.js';

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Force a format; default: pretty when stdout is a TTY. */
  readonly format?: 'pretty' | 'json';
}

export interface MasterLog {
  readonly logger: Logger;
  readonly sink: StdoutSink;
}

export async function createLogger(options: LoggerOptions = {}): Promise<MasterLog> {
  const level = options.level ?? 'info';
  const format = options.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  let render: ((line: string) => string) | undefined;
  if (format === 'pretty') {
    const { prettyFactory } = await import('pino-pretty');
    // One line per record, the worker id up front: what a person scanning a terminal needs.
    const pretty = prettyFactory({ colorize: true, translateTime: 'HH:MM:ss.l', singleLine: true, ignore: 'worker', messageFormat: '{if worker}[{worker}] {end}{msg}' });
    render = (line) => pretty(line);
  }
  const sink = new StdoutSink(process.stdout, render);
  // While a span is active (tracing on), every record carries its trace_id and span_id; otherwise nothing is added.
  return { logger: pino({ level, base: undefined, mixin: lazyTraceLogMixin }, sink), sink };
}
