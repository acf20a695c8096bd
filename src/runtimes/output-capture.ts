/**
 * Captures a worker's stdout/stderr, whatever produces it (a process, a hosted module, a worker
 * thread): split into lines, appended to `<logDir>/<id>.out.log` / `.err.log`, republished to the
 * master log and to an optional subscriber. Streams are read in flowing mode and never paused, so
 * a chatty worker can never block on a full pipe.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { hsuError } from '../errors.js';
import { LineBudget } from './line-budget.js';
import { LineSplitter } from './line-splitter.js';

/** Beyond this much unwritten output the disk is not keeping up; later chunks are not queued. */
const MAX_FILE_BACKLOG = 64 * 1024 * 1024;

export type OutputStream = 'stdout' | 'stderr';

export interface OutputCaptureOptions {
  readonly workerId: string;
  readonly logDir: string;
  /** Every output line, for the master to republish. */
  readonly onLine?: (stream: OutputStream, line: string, pid: number | undefined) => void;
}

export class OutputCapture {
  private files: Record<OutputStream, WriteStream> | undefined;
  /** Shared by stdout and stderr: the budget is per worker. */
  private readonly budget = new LineBudget();

  constructor(private readonly options: OutputCaptureOptions) {}

  /** Opens the log files (once per worker, reused across restarts: a restart appends). Throws SPAWN_FAILED if the directory cannot be made. */
  open(logger: Logger): void {
    if (this.files !== undefined && this.files.stdout.writable && this.files.stderr.writable) return;
    // One of the pair failed (e.g. disk full): end the other too rather than leak its descriptor.
    if (this.files !== undefined) for (const f of [this.files.stdout, this.files.stderr]) f.end();
    const dir = this.options.logDir;
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      const worker_id = this.options.workerId;
      throw hsuError('SPAWN_FAILED', `worker '${worker_id}': cannot create log directory ${dir}: ${(err as Error).message}`, { worker_id, log_dir: dir }, err);
    }
    const openFile = (suffix: string): WriteStream => {
      const file = path.join(dir, `${this.options.workerId}.${suffix}.log`);
      const stream = createWriteStream(file, { flags: 'a' });
      // A full disk must not crash the master; the stream is destroyed and later writes are skipped.
      stream.on('error', (err) => logger.error({ err, file }, 'worker log file failed'));
      return stream;
    };
    this.files = { stdout: openFile('out'), stderr: openFile('err') };
  }

  /**
   * Reads `stream` until it closes. Returns a function that flushes what is buffered and detaches;
   * `done` resolves when the stream has closed or been finished.
   */
  attach(stream: Readable | null, name: OutputStream, pid: number | undefined, logger: Logger): { done: Promise<void>; finish: () => void } {
    if (stream === null) return { done: Promise.resolve(), finish: () => undefined };
    this.open(logger);
    const file = this.files?.[name];
    const budget = this.budget;
    const splitter = new LineSplitter((line) => {
      if (budget.take()) this.deliver(name, line, pid, logger);
    });
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      splitter.flush();
      this.reportSuppressed(logger, pid);
      resolveDone();
    };
    stream.on('data', (chunk: Buffer) => {
      // The file gets the raw bytes, exactly as written, unless the disk is this far behind.
      if (file?.writable === true && file.writableLength < MAX_FILE_BACKLOG) file.write(chunk);
      if (budget.exhausted()) {
        budget.suppressedBytes += chunk.length;
        splitter.reset();
        return;
      }
      this.reportSuppressed(logger, pid);
      splitter.push(chunk);
    });
    stream.on('error', (err) => logger.debug({ err, pid, stream: name }, 'worker output stream error'));
    stream.once('close', finish);
    stream.once('end', finish);
    return { done, finish };
  }

  /** Ends the log files. Call when the worker is removed; a later launch reopens them. */
  async close(): Promise<void> {
    const files = this.files;
    this.files = undefined;
    if (files === undefined) return;
    await Promise.all([files.stdout, files.stderr].map((s) => new Promise((resolve) => s.end(resolve))));
  }

  private reportSuppressed(logger: Logger, pid: number | undefined): void {
    const report = this.budget.drainReport();
    if (report === undefined) return;
    logger.warn(
      { pid, suppressed_lines: report.lines, suppressed_bytes: report.bytes, log_dir: this.options.logDir },
      'output rate limit: some lines were not copied to the master log (the worker log files have them all)',
    );
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
