/**
 * A GNU split process that writes one stream's segments itself, so a worker's output reaches its
 * files whether or not a master is alive: the worker writes into split's stdin (the master hands
 * the write end to spawn as the child's stdout or stderr), split cuts segments at line boundaries
 * (`-C max_size`) and numbers them from where the disk left off (`--numeric-suffixes=N`).
 *
 * The master keeps its own copy of the write end across restarts of the worker, so one split
 * serves every instance; ending that copy (worker removed, master shutting down) lets split exit
 * once the last instance's output has closed. Split runs in its own session with no stdout or
 * stderr of its own, so no terminal signal and no dead reader can stop it.
 *
 * A marker file (`.<id>.<out|err>.split.json`: pid + start time) lets a later master find a split
 * a killed master left behind: it still serves an adopted instance, and must be gone before a new
 * split takes over the numbering (two splits would write the same names).
 *
 * Split runs under a two-line shell: should it die while serving (a full disk: ENOSPC ends it),
 * the shell execs `cat`, which keeps reading the pipe and hands the rest to the master over the
 * shell's stdout. So the worker never gets SIGPIPE from a failed log writer; the master writes
 * the files itself from then on (counting what the disk refuses), and split's own error, read
 * from the shell's stderr, is in diagnostics. What split held when it failed may be lost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import path from 'node:path';
import type { Logger } from 'pino';
import { watchExit } from '../../os/exit-watch.js';
import { identityOf, type Identity } from '../../os/proc-stat.js';
import { isSameProcess } from '../../os/proc.js';
import type { LogSegments } from './log-segments.js';
import { splitPrefix } from './segment-names.js';

/** Without max_size: a byte count split never reaches, in `-b` mode, which writes through without holding a line back. */
const NEVER_BYTES = '1152921504606846976';
const PREDECESSOR_WAIT_MS = 5_000;
const MAX_REASON_CHARS = 500;

export interface SplitExit {
  readonly exit_code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly error: string | null;
}

export interface SplitWriterOptions {
  /** Absolute path of a GNU split that detectSplit accepted. */
  readonly binary: string;
  readonly segments: LogSegments;
  /** Bytes per segment; undefined: one segment per split, never rotated. */
  readonly maxSize?: number;
  readonly logger: Logger;
  /** How long a split left by an earlier master may take to finish before it is killed. */
  readonly predecessorWaitMs?: number;
  /** Split failed while serving: the rest of the stream (from cat), for the master to write. */
  readonly onTakeover?: (rest: Readable, reason: string) => void;
}

interface Marker {
  readonly pid: number;
  readonly start_time_ticks: number;
  readonly first_segment: number;
}

export class SplitWriter {
  readonly exited: Promise<SplitExit>;
  private exitInfo: SplitExit | undefined;
  private ending = false;

  private constructor(
    private readonly child: ChildProcess,
    /** The write end to hand to spawn as stdout/stderr; the master never writes to it. */
    readonly stdin: Socket,
    readonly first: number,
    private readonly marker: string,
    logger: Logger,
    onTakeover: ((rest: Readable, reason: string) => void) | undefined,
  ) {
    this.exited = new Promise((resolve) => {
      const settle = (info: SplitExit): void => {
        if (this.exitInfo !== undefined) return;
        this.exitInfo = info;
        if (!this.ending && this.failure === null) logger.error({ split_pid: child.pid, ...info }, 'log writer (split) exited while the worker may still write: output from now on is lost until the next start');
        resolve(info);
      };
      child.once('error', (err) => settle({ exit_code: null, signal: null, error: err.message }));
      child.once('exit', (code, signal) => settle({ exit_code: code, signal, error: code === 0 ? this.failure : `split exited with ${signal ?? `code ${code}`}` }));
    });
    // An EPIPE on a write end we never write to is not an event; without a listener it would throw.
    stdin.on('error', () => undefined);
    let said = '';
    child.stderr?.on('data', (chunk: Buffer) => void (said = (said + chunk.toString('utf8')).slice(-MAX_REASON_CHARS)));
    const rest = child.stdout;
    rest?.once('data', (chunk: Buffer) => {
      // cat runs: split failed. Its stderr line arrives first (split wrote it before exiting).
      rest.pause();
      rest.unshift(chunk);
      this.failure = said.trim() === '' ? 'split failed' : said.trim();
      logger.error({ split_pid: child.pid, error: this.failure }, 'log writer (split) failed while the worker writes: the master writes its output from now on (what split held when it failed may be lost)');
      if (onTakeover === undefined) rest.resume();
      else onTakeover(rest, this.failure);
    });
  }

  /** Why split failed while serving (the master took over), or null. */
  private failure: string | null = null;

  get pid(): number | undefined {
    return this.child.pid;
  }

  get error(): string | null {
    return this.failure ?? this.exitInfo?.error ?? null;
  }

  /** Set once split has exited. */
  get exit(): SplitExit | undefined {
    return this.exitInfo;
  }

  /** Starts a split at the next segment number, after any split an earlier master left has finished. */
  static async start(options: SplitWriterOptions): Promise<SplitWriter> {
    const segments = options.segments;
    const marker = path.join(segments.dir, `.${segments.key}.split.json`);
    await settlePredecessor(marker, options.predecessorWaitMs ?? PREDECESSOR_WAIT_MS, options.logger);
    segments.refresh(); // the predecessor may have rotated since the directory was read
    const first = segments.allocate();
    segments.begin(first);
    const size = options.maxSize === undefined ? ['-b', NEVER_BYTES] : ['-C', String(options.maxSize)];
    const args = [...size, '-d', '-a', '6', `--numeric-suffixes=${first}`, '--additional-suffix=.log', '-', path.join(segments.dir, splitPrefix(segments.key))];
    // Split's own stdout is not the takeover channel; a failed split leaves the pipe to cat.
    const script = '"$0" "$@" >/dev/null || exec cat';
    const child = spawn('/bin/sh', ['-c', script, options.binary, ...args], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    const writer = new SplitWriter(child, child.stdin as Socket, first, marker, options.logger, options.onTakeover);
    if (child.pid !== undefined) {
      const identity = identityOf(child.pid);
      if (identity !== undefined) writeMarker(marker, { pid: identity.pid, start_time_ticks: identity.startTimeTicks, first_segment: first });
    }
    return writer;
  }

  /**
   * Ends the master's write end and waits up to `timeoutMs` for split to exit (it does once every
   * instance's output has closed). False when it is still running: something still holds its stdin
   * (an orphan of the worker); it is left to finish, and its marker tells the next master.
   */
  async end(timeoutMs: number): Promise<boolean> {
    this.ending = true;
    if (this.exitInfo === undefined) this.stdin.end();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.exited.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    if (exited) {
      this.stdin.destroy();
      removeMarkerOf(this.marker, this.child.pid);
    } else {
      this.stdin.destroy();
      this.child.unref();
    }
    return exited;
  }

}

function writeMarker(file: string, marker: Marker): void {
  writeFileSync(file, `${JSON.stringify(marker)}\n`);
}

function readMarker(file: string): Marker | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Marker>;
    if (typeof parsed.pid === 'number' && typeof parsed.start_time_ticks === 'number') return parsed as Marker;
  } catch {
    // missing or unreadable: nothing to wait for
  }
  return undefined;
}

function removeMarkerOf(file: string, pid: number | undefined): void {
  if (readMarker(file)?.pid === pid) rmSync(file, { force: true });
}

/** Waits (bounded) for the split named by the marker to exit; kills it past the bound. */
async function settlePredecessor(file: string, waitMs: number, logger: Logger): Promise<void> {
  const marker = readMarker(file);
  if (marker === undefined) return;
  const identity: Identity = { pid: marker.pid, startTimeTicks: marker.start_time_ticks };
  if (isSameProcess(identity) && !(await exitWithin(identity, waitMs))) {
    // Its remaining writer is an orphan of an old instance; two splits on the same names would corrupt both.
    logger.warn({ split_pid: identity.pid, waited_ms: waitMs }, 'a log writer left by an earlier master is still running; killing it before starting a new one');
    try {
      process.kill(-identity.pid, 'SIGKILL'); // the shell leads a group of its own: split (or cat) with it
    } catch {
      // exited meanwhile
    }
    await exitWithin(identity, 2_000);
  }
  rmSync(file, { force: true });
}

function exitWithin(identity: Identity, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      dispose();
      resolve(false);
    }, ms);
    const dispose = watchExit(identity, () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}
