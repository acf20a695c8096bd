/**
 * Captures a worker's stdout/stderr, whatever produces it (a process, a hosted module, a worker
 * thread): every byte appended to `<logDir>/<id>.out.log` / `.err.log`, and lines copied into the
 * master log (and to output subscribers) within a per-worker budget, with exact counts of what
 * was not copied. Files are kept open across restarts and closed when the worker goes away.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { hsuError } from '../../errors.js';
import { LineCopier, emptyCounts, type CopyCounts } from './line-copier.js';
import { LogFile, type LogFileStats } from './log-file.js';
import { OutputBudget } from './output-budget.js';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputCaptureOptions {
  readonly workerId: string;
  readonly logDir: string;
  /** Every copied line, for the master to republish as an event. */
  readonly onLine?: (stream: OutputStream, line: string, pid: number | undefined) => void;
}

export type StreamStats = CopyCounts & Omit<LogFileStats, 'bytes_written'> & { bytes: number };

export interface Attached {
  /** Resolves when the stream has closed or been finished. */
  readonly done: Promise<void>;
  /** Flushes the line in progress and detaches (an orphan may hold the pipe open forever). */
  readonly finish: () => void;
}

export class OutputCapture {
  private files: Record<OutputStream, LogFile> | undefined;
  /** Shared by stdout and stderr: the budget is per worker. */
  private readonly budget = new OutputBudget();
  private readonly counts: Record<OutputStream, CopyCounts> = { stdout: emptyCounts(), stderr: emptyCounts() };

  constructor(private readonly options: OutputCaptureOptions) {}

  /** Opens the log files (reused across restarts: a restart appends). Throws LOG_DIR_UNUSABLE. */
  open(logger: Logger): void {
    if (this.files === undefined) {
      const dir = this.options.logDir;
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        const worker_id = this.options.workerId;
        throw hsuError('LOG_DIR_UNUSABLE', `worker '${worker_id}': cannot create log directory ${dir}: ${(err as Error).message}`, { worker_id, log_dir: dir }, err);
      }
      const file = (suffix: string): LogFile => new LogFile(path.join(dir, `${this.options.workerId}.${suffix}.log`), logger);
      this.files = { stdout: file('out'), stderr: file('err') };
    }
    this.files.stdout.open();
    this.files.stderr.open();
  }

  /** Reads `stream` until it closes; pauses it while its file is behind, never drops. */
  attach(stream: Readable | null, name: OutputStream, pid: number | undefined, logger: Logger): Attached {
    if (stream === null) return { done: Promise.resolve(), finish: () => undefined };
    this.open(logger);
    const file = this.files![name];
    const copier = new LineCopier(
      this.budget,
      this.counts[name],
      (line) => this.deliver(name, line, pid, logger),
      (lines, bytes) => this.reportSuppressed(logger, name, pid, lines, bytes, file),
    );
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      copier.finish();
      resolveDone();
    };
    stream.on('data', (chunk: Buffer) => {
      if (!file.write(chunk)) {
        stream.pause();
        file.onDrain(() => stream.resume());
      }
      copier.push(chunk);
    });
    stream.on('error', (err) => logger.debug({ err, pid, stream: name }, 'worker output stream error'));
    stream.once('close', finish);
    stream.once('end', finish);
    return { done, finish };
  }

  /** Totals since the worker was added: bytes to the file, lines copied, suppressed, dropped. */
  stats(): Record<OutputStream, StreamStats> {
    const view = (name: OutputStream): StreamStats => {
      const file = this.files?.[name].stats;
      return {
        bytes: file?.bytes_written ?? 0,
        ...this.counts[name],
        file: file?.file ?? path.join(this.options.logDir, `${this.options.workerId}.${name === 'stdout' ? 'out' : 'err'}.log`),
        bytes_dropped: file?.bytes_dropped ?? 0,
        error: file?.error ?? null,
      };
    };
    return { stdout: view('stdout'), stderr: view('stderr') };
  }

  /** Ends the log files. Call when the worker is removed; a later launch reopens them. */
  async close(): Promise<void> {
    const files = this.files;
    this.files = undefined;
    if (files !== undefined) await Promise.all([files.stdout.close(), files.stderr.close()]);
  }

  private reportSuppressed(logger: Logger, stream: OutputStream, pid: number | undefined, lines: number, bytes: number, file: LogFile): void {
    const where = file.stats.error === null ? `they are in ${file.path}` : `the log file failed too: ${file.stats.error}`;
    logger.warn({ pid, stream, suppressed_lines: lines, suppressed_bytes: bytes }, `output rate limit: ${lines} lines were not copied to the master log (${where})`);
  }

  private deliver(name: OutputStream, line: string, pid: number | undefined, logger: Logger): void {
    if (name === 'stdout') logger.info({ stream: name, pid }, line);
    else logger.warn({ stream: name, pid }, line);
    if (this.options.onLine === undefined) return;
    try {
      this.options.onLine(name, line, pid);
    } catch (err) {
      // A throwing subscriber would otherwise surface as an uncaught exception in the master.
      logger.error({ err }, 'output subscriber threw');
    }
  }
}
