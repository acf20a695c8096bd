/**
 * The download/unpack progress bar of `hsu package install` on a TTY: one line redrawn in place,
 * only when the shown percentage (or, without a total, the megabyte count) changes.
 */
import path from 'node:path';
import type { ProgressEvent } from './store/stage.js';

const WIDTH = 24;
const MB = 2 ** 20;

export class ProgressBar {
  private shown = '';
  private line: string | undefined;

  constructor(private readonly write: (text: string) => void) {}

  update(event: ProgressEvent): void {
    const key = `${event.phase} ${event.source}`;
    if (this.line !== undefined && this.line !== key) this.end();
    this.line = key;
    const label = `${event.phase === 'download' ? 'fetching' : 'unpacking'} ${path.basename(event.source)}`;
    const done = `${(event.bytes / MB).toFixed(1)}`;
    let text: string;
    if (event.total !== undefined && event.total > 0) {
      const fraction = Math.min(1, event.bytes / event.total);
      const filled = Math.round(fraction * WIDTH);
      text = `${label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${(event.total / MB).toFixed(1)} MB`;
    } else {
      text = `${label} ${done} MB`;
    }
    if (text === this.shown) return;
    this.shown = text;
    this.write(`\r${text}\x1b[K`);
  }

  /** Ends the current line, if one is drawn. */
  end(): void {
    if (this.line === undefined) return;
    this.write('\n');
    this.line = undefined;
    this.shown = '';
  }
}
