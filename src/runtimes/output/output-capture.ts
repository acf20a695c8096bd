/**
 * Captures a worker's stdout/stderr, whatever produces it: every byte to its segments in
 * `<logDir>` (`<id>.out.NNNNNN.log`, the newest named by `<id>.out.log`), and lines copied into
 * the master log (and to output subscribers) within one per-worker budget, with exact counts of
 * what was not copied. Two ways in:
 *  - `attachSplit()` (process workers): GNU split writes the files, the master follows them, so
 *    output keeps reaching the files when the master dies;
 *  - `attach(stream)` (threads, hosted modules, and the fallback): the master reads the pipe and
 *    writes the files itself (RotatingFile).
 * Files stay open across restarts; `close()` ends them when the worker is removed.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from 'pino';
import { hsuError, isHsuError } from '../../errors.js';
import { FollowedStream } from './followed-stream.js';
import { LineCopier, emptyCounts, type CopyCounts } from './line-copier.js';
import { LogSegments, listSegments, type SegmentInfo } from './log-segments.js';
import { DEFAULT_LOG_SETTINGS, type LogSettings } from './logs-config.js';
import { OutputBudget } from './output-budget.js';
import { RotatingFile } from './rotating-file.js';
import { linkName, streamKey, type StreamSuffix } from './segment-names.js';
import { detectSplit } from './split-support.js';

export type OutputStream = 'stdout' | 'stderr';
export type OutputWriter = 'split' | 'master';

export interface OutputCaptureOptions {
  readonly workerId: string;
  readonly logDir: string;
  /** Every copied line, for the master to republish as an event. */
  readonly onLine?: (stream: OutputStream, line: string, pid: number | undefined) => void;
  /** The worker's `logs:` block, resolved (resolveLogSettings). */
  readonly logs?: LogSettings;
  /** The split binary to look for (default `split` on PATH); a missing one selects the master-written path. */
  readonly splitBinary?: string;
}

export type StreamStats = CopyCounts & {
  /** The symlink naming the newest segment. */
  file: string;
  /** Bytes written to the files (by the master) or read from them (split-written). */
  bytes: number;
  bytes_dropped: number;
  error: string | null;
  segments: SegmentInfo[];
  writer: OutputWriter;
  /** Why the master writes the files when it is not split (split unusable, timestamp: true); null otherwise. */
  writer_note: string | null;
};

export interface Attached {
  /** Resolves when the stream has closed or been finished. */
  readonly done: Promise<void>;
  /** Flushes the line in progress and detaches (an orphan may hold the pipe open forever). */
  readonly finish: () => void;
}

/** A process instance whose output split writes. */
export interface SplitAttachment {
  /** For spawn: `stdio: ['ignore', attachment.stdout, attachment.stderr]`. Never written by the master. */
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** The instance runs as `pid`: lines read from now on are attributed to it. */
  started(pid: number): void;
  /** The instance exited: waits (at most `timeoutMs`) until its output on disk is read and reports what was suppressed. */
  exited(timeoutMs?: number): Promise<void>;
}

/** An adopted instance (started by an earlier master): its split keeps writing, we follow from the end. */
export type AdoptedOutput = Pick<SplitAttachment, 'exited'>;

interface StreamState {
  readonly segments: LogSegments;
  file?: RotatingFile;
  followed?: FollowedStream;
}

const STREAMS: readonly OutputStream[] = ['stdout', 'stderr'];
const SUFFIX: Readonly<Record<OutputStream, StreamSuffix>> = { stdout: 'out', stderr: 'err' };
const EXIT_READ_WAIT_MS = 200;
/** How long close() lets a taken-over pipe finish before cutting it. */
const TAKEOVER_END_WAIT_MS = 2_000;

export class OutputCapture {
  private streams: Record<OutputStream, StreamState> | undefined;
  /** Shared by stdout and stderr: the budget is per worker. */
  private readonly budget = new OutputBudget();
  private readonly counts: Record<OutputStream, CopyCounts> = { stdout: emptyCounts(), stderr: emptyCounts() };
  private readonly copiers = new Map<OutputStream, LineCopier>();
  private readonly settings: LogSettings;
  private mode: OutputWriter = 'master';
  private modeNote: string | null = null;
  /** The instance split-written lines are attributed to. */
  private pid: number | undefined;
  /** States closed before: a close then a reopen keeps the totals (read lazily: a failing write reports after close). */
  private readonly retired: Record<OutputStream, StreamState[]> = { stdout: [], stderr: [] };
  private logger: Logger | undefined;
  /** Pipes of dead splits the master reads itself (see takeOver). */
  private readonly takeovers = new Set<{ readonly name: OutputStream; readonly attached: Attached; readonly pipe: Readable }>();

  constructor(private readonly options: OutputCaptureOptions) {
    this.settings = options.logs ?? DEFAULT_LOG_SETTINGS;
  }

  /** Who writes the files, and why it is not split when it is not. */
  get writer(): { writer: OutputWriter; note: string | null } {
    return { writer: this.mode, note: this.modeNote };
  }

  /** Creates the log directory and reads its segments (kept across restarts). Throws LOG_DIR_UNUSABLE. */
  open(logger: Logger): void {
    this.logger = logger;
    if (this.streams !== undefined) return;
    const dir = this.options.logDir;
    const worker_id = this.options.workerId;
    try {
      mkdirSync(dir, { recursive: true });
      const state = (name: OutputStream): StreamState => ({
        segments: new LogSegments({ dir, key: streamKey(worker_id, SUFFIX[name]), keep: this.settings.keep, gzip: this.settings.gzip, logger }),
      });
      this.streams = { stdout: state('stdout'), stderr: state('stderr') };
    } catch (err) {
      if (isHsuError(err, 'LOG_DIR_UNUSABLE')) throw err;
      throw hsuError('LOG_DIR_UNUSABLE', `worker '${worker_id}': cannot create log directory ${dir}: ${(err as Error).message}`, { worker_id, log_dir: dir }, err);
    }
  }

  /** Reads `stream` until it closes into master-written segments; pauses it while its file is behind, never drops. */
  attach(stream: Readable | null, name: OutputStream, pid: number | undefined, logger: Logger): Attached {
    if (stream === null) return { done: Promise.resolve(), finish: () => undefined };
    this.open(logger);
    const file = this.fileFor(name, logger);
    const copier = new LineCopier(
      this.budget,
      this.counts[name],
      (line) => this.deliver(name, line, pid, logger),
      (lines, bytes) => this.reportSuppressed(logger, name, pid, lines, bytes),
    );
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      file.endSource();
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

  /**
   * For a process instance: the write ends of split processes to give to spawn as stdout and
   * stderr, started on first use and kept for every later instance. Null when split cannot be
   * used (not GNU split, or `timestamp: true`): spawn with pipes and `attach()` them instead.
   */
  async attachSplit(logger: Logger): Promise<SplitAttachment | null> {
    const binary = await this.splitBinary(logger);
    if (binary === undefined) return null;
    const streams = this.splitStreams(logger, binary);
    const [stdout, stderr] = await Promise.all([streams.stdout.stdio(), streams.stderr.stdio()]);
    return {
      stdout,
      stderr,
      started: (pid) => void (this.pid = pid),
      exited: (timeoutMs) => this.instanceExited(streams, timeoutMs),
    };
  }

  /**
   * After a master restart, for an instance an earlier master started: follows its newest
   * segments from their end (its split keeps writing them). The next `attachSplit()` starts a
   * new split once that one has finished.
   */
  async adopt(pid: number, logger: Logger): Promise<AdoptedOutput> {
    // Followed whatever this master could use itself: the old split is already writing the files.
    const streams = this.splitStreams(logger, await this.splitBinary(logger));
    this.pid = pid;
    for (const name of STREAMS) streams[name].followFromEnd();
    return { exited: (timeoutMs) => this.instanceExited(streams, timeoutMs) };
  }

  /** Totals since the worker was added: bytes, lines copied, suppressed, dropped; the segments on disk. */
  stats(): Record<OutputStream, StreamStats> {
    const view = (name: OutputStream): StreamStats => {
      const state = this.streams?.[name];
      const all = [...this.retired[name], ...(state === undefined ? [] : [state])];
      const key = streamKey(this.options.workerId, SUFFIX[name]);
      const sum = (pick: (s: StreamState) => number): number => all.reduce((total, s) => total + pick(s), 0);
      const latest = all.at(-1);
      return {
        bytes: sum((s) => (s.file?.stats.bytes_written ?? 0) + (s.followed?.bytes ?? 0)),
        ...this.counts[name],
        file: path.join(this.options.logDir, linkName(key)),
        bytes_dropped: sum((s) => s.file?.stats.bytes_dropped ?? 0),
        error: latest?.file?.stats.error ?? latest?.followed?.error ?? null,
        segments: state?.segments.segments() ?? listSegments(this.options.logDir, key),
        writer: this.mode,
        writer_note: this.modeNote,
      };
    };
    return { stdout: view('stdout'), stderr: view('stderr') };
  }

  /** Ends the files (and split, once the last instance's output has closed). A later launch reopens them. */
  async close(): Promise<void> {
    const streams = this.streams;
    this.streams = undefined;
    if (streams === undefined) return;
    await Promise.all(
      STREAMS.map(async (name) => {
        const state = streams[name];
        this.retired[name].push(state);
        // Ending split's stdin first lets a taken-over pipe (cat) end too; then the file it writes closes.
        await state.followed?.close();
        await this.endTakeovers(name);
        await state.file?.close();
        await state.segments.close();
      }),
    );
    this.copiers.clear();
  }

  private fileFor(name: OutputStream, logger: Logger): RotatingFile {
    const state = this.streams![name];
    state.file ??= new RotatingFile({ segments: state.segments, ...(this.settings.max_size === null ? {} : { maxSize: this.settings.max_size }), timestamp: this.settings.timestamp, logger });
    state.file.openFile();
    return state.file;
  }

  /** The split to use, or undefined (with the reason in diagnostics) when the master must write. */
  private async splitBinary(logger: Logger): Promise<string | undefined> {
    if (this.settings.timestamp) {
      this.modeNote = 'timestamp: true: the master writes each line with its time, so this worker’s output does not survive a master crash';
      return undefined;
    }
    const support = await detectSplit(this.options.splitBinary);
    if (support.available) return support.binary;
    if (this.modeNote === null) logger.warn({ reason: support.reason }, 'GNU split is not usable: the master writes the log files, and output does not survive a master crash');
    this.modeNote = `GNU split is not usable (${support.reason ?? 'unknown'}): the master writes the files, so output does not survive a master crash`;
    return undefined;
  }

  /** The followed streams (created once); `binary` undefined: follow only, no split can be started. */
  private splitStreams(logger: Logger, binary: string | undefined): Record<OutputStream, FollowedStream> {
    this.open(logger);
    const streams = this.streams!;
    for (const name of STREAMS) {
      streams[name].followed ??= new FollowedStream({
        segments: streams[name].segments,
        copier: this.splitCopier(name, logger),
        binary: binary ?? null,
        maxSize: this.settings.max_size,
        logger,
        onTakeover: (pipe) => this.takeOver(name, pipe, logger),
      });
    }
    this.mode = 'split';
    if (binary !== undefined) this.modeNote = null;
    return { stdout: streams.stdout.followed!, stderr: streams.stderr.followed! };
  }

  /** Split failed under a live instance: the master reads the rest of the stream into master-written segments. */
  private takeOver(name: OutputStream, pipe: Readable, logger: Logger): void {
    const attached = this.attach(pipe, name, this.pid, this.logger ?? logger);
    pipe.resume();
    const entry = { name, attached, pipe };
    this.takeovers.add(entry);
    void attached.done.then(() => this.takeovers.delete(entry));
  }

  /** A taken-over stream ends with the instance's output; one an orphan still holds is cut after a bound. */
  private async endTakeovers(name: OutputStream): Promise<void> {
    const mine = [...this.takeovers].filter((entry) => entry.name === name);
    await Promise.all(
      mine.map(async (entry) => {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([entry.attached.done, new Promise<void>((resolve) => (timer = setTimeout(resolve, TAKEOVER_END_WAIT_MS)))]);
        clearTimeout(timer);
        entry.attached.finish();
        entry.pipe.destroy();
        this.takeovers.delete(entry);
      }),
    );
  }

  /** One copier per stream for split-written output: the bytes are one stream across instances. */
  private splitCopier(name: OutputStream, logger: Logger): LineCopier {
    let copier = this.copiers.get(name);
    if (copier === undefined) {
      copier = new LineCopier(
        this.budget,
        this.counts[name],
        (line) => this.deliver(name, line, this.pid, this.logger ?? logger),
        (lines, bytes) => this.reportSuppressed(this.logger ?? logger, name, this.pid, lines, bytes),
      );
      this.copiers.set(name, copier);
    }
    return copier;
  }

  /**
   * Waits (bounded) for what the instance wrote to be read from disk, so lines are attributed to
   * the instance that wrote them. The file stays one byte stream across instances, but for the
   * master log a last line without a newline is the exited instance's: it is delivered now, not
   * glued to the first line of the next instance.
   */
  private async instanceExited(streams: Record<OutputStream, FollowedStream>, timeoutMs = EXIT_READ_WAIT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(STREAMS.map((name) => streams[name].instanceDrained(timeoutMs))), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    for (const name of STREAMS) this.copiers.get(name)?.finish();
  }

  private reportSuppressed(logger: Logger, stream: OutputStream, pid: number | undefined, lines: number, bytes: number): void {
    const state = this.streams?.[stream];
    const error = state?.file?.stats.error ?? state?.followed?.error ?? null;
    const where = error === null ? `they are in ${state?.segments.link ?? this.options.logDir}` : `the log file failed too: ${error}`;
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
