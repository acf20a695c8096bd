/**
 * One memory-reducing collection once the master has settled after starting workers. Loading the
 * master's import graph and starting its workers allocates fast enough that V8 grows its young
 * generation to its 16-32 MB maximum; an idle master then never collects again, so that memory
 * stays resident for good (V8's memory reducer is driven by collections, which an idle process
 * does not make). A "last resort" major collection shrinks the young generation back to 1 MB and
 * compacts the old one: measured on `hsu run`'s import graph, RSS 95 MB -> 77 MB, for one pause of
 * a few ms. Under load the young generation grows again as V8 sees fit.
 *
 * Node exposes that collection only behind --expose-gc, which a supervisor should not ask its users
 * for; the flag is turned on just long enough to take the gc function from a new context, then off
 * again, so no code (a thread started later included) sees a `gc` global it did not ask for.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from 'pino';

type Collect = (options: { type: 'major'; flavor: 'last-resort'; execution: 'sync' }) => void;

/**
 * The gc function, taken anew for each trim: it belongs to the context it was taken from, so
 * keeping it would keep a whole V8 context alive between trims that are seconds to hours apart.
 */
function lastResortGc(): Collect {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  v8.setFlagsFromString('--expose-gc');
  try {
    return vm.runInNewContext('gc') as Collect;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
}

/** How long the master must be quiet (no start, no added worker) before the trim. */
export const TRIM_SETTLE_MS = 2_000;
/**
 * Workers started now and then (autoscaling, restarts after backoff) must not turn this into a GC
 * loop: at most one trim per this much time, each a pause of a few ms.
 */
export const TRIM_MIN_SPACING_MS = 10_000;

export class HeapTrim {
  private timer: NodeJS.Timeout | undefined;
  private lastTrim = -Infinity;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    private readonly enabled: boolean,
  ) {}

  /** (Re)arms the trim for when the master has been quiet for {@link TRIM_SETTLE_MS}. */
  schedule(): void {
    if (!this.enabled || this.closed) return;
    clearTimeout(this.timer);
    const wait = Math.max(TRIM_SETTLE_MS, this.lastTrim + TRIM_MIN_SPACING_MS - performance.now());
    this.timer = setTimeout(() => this.trim(), wait);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private trim(): void {
    this.timer = undefined;
    const before = process.memoryUsage.rss();
    const started = performance.now();
    try {
      lastResortGc()({ type: 'major', flavor: 'last-resort', execution: 'sync' });
    } catch (err) {
      this.logger.debug({ err }, 'heap trim failed');
      return;
    }
    this.lastTrim = performance.now();
    this.logger.debug({ pause_ms: Math.round((this.lastTrim - started) * 10) / 10, rss_before: before, rss_after: process.memoryUsage.rss() }, 'heap trimmed');
  }
}
