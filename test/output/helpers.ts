// Shared by the output tests: fixtures, scratch directories, real children wired the way the
// process runtime wires them (split write ends, or pipes read by the master), and segment readers.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import type { OutputCapture, SplitAttachment } from '../../src/runtimes/output/index.js';
import { parseSegmentName } from '../../src/runtimes/output/segment-names.js';
import { repoRoot } from '../helpers/paths.js';

export const silent = pino({ level: 'silent' });
export const NODE = process.execPath;

export function outputFixture(name: string): string {
  return path.join(repoRoot, 'test', 'output', 'fixtures', name);
}

/** What fixtures/numbered.mjs writes for these arguments. */
export function expectedNumbered(count: number, width = 64): string {
  let out = '';
  for (let n = 1; n <= count; n++) {
    const head = `line ${n} `;
    out += head + 'x'.repeat(Math.max(0, width - head.length - 1)) + '\n';
  }
  return out;
}

export class Scratch {
  private readonly dirs: string[] = [];
  dir(label: string): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), `hsu-output-${label}-`));
    this.dirs.push(dir);
    return dir;
  }
  remove(): void {
    for (const dir of this.dirs) rmSync(dir, { recursive: true, force: true });
  }
}

export interface SegmentFile {
  readonly name: string;
  readonly number: number;
  readonly compressed: boolean;
  readonly text: string;
}

/** Every segment of `key` in `dir`, oldest first, decompressed. */
export function readSegments(dir: string, key: string): SegmentFile[] {
  return readdirSync(dir)
    .map((name) => ({ name, parsed: parseSegmentName(name) }))
    .filter((e) => e.parsed?.key === key)
    .map(({ name, parsed }) => {
      const raw = readFileSync(path.join(dir, name));
      return { name, number: parsed!.number, compressed: parsed!.compressed, text: (parsed!.compressed ? gunzipSync(raw) : raw).toString('utf8') };
    })
    .sort((a, b) => a.number - b.number);
}

export function allText(dir: string, key: string): string {
  return readSegments(dir, key)
    .map((s) => s.text)
    .join('');
}

export interface Run {
  readonly child: ChildProcess;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function exitOf(child: ChildProcess): Run['exit'] {
  return once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
}

/** Spawns `file args` with its stdout/stderr handed to split, as the process runtime does. */
export function runSplit(attachment: SplitAttachment, file: string, args: readonly string[]): Run {
  const child = spawn(file, args, { detached: true, stdio: ['ignore', attachment.stdout, attachment.stderr] });
  attachment.started(child.pid!);
  return { child, exit: exitOf(child) };
}

/** Spawns `file args` with pipes the master reads into its own files (threads, hosted modules, the fallback). */
export function runPiped(capture: OutputCapture, file: string, args: readonly string[]): Run & { done: Promise<void> } {
  const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = capture.attach(child.stdout, 'stdout', child.pid, silent);
  const err = capture.attach(child.stderr, 'stderr', child.pid, silent);
  return { child, exit: exitOf(child), done: Promise.all([out.done, err.done]).then(() => undefined) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns true; the deadline only stops a broken test from hanging. */
export async function waitFor(what: string, check: () => boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function killQuietly(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
