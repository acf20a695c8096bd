// A real `hsu run --json` child: its JSON log lines, signals and exit code, for CLI-level tests.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { LIVENESS_MS } from './master-helpers.js';
import { repoRoot } from './paths.js';

export interface LogLine {
  msg?: string;
  worker?: string;
  from?: string;
  to?: string;
  pid?: number | null;
  [key: string]: unknown;
}

export class HsuRun {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private stderr = '';
  private notify: () => void = () => undefined;

  constructor(config: string, cwd: string) {
    this.child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js'), 'run', config, '--json'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const part of parts) if (part.trim() !== '') this.lines.push(JSON.parse(part) as LogLine);
      this.notify();
    });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  async waitFor(what: string, match: (line: LogLine) => boolean, timeoutMs = LIVENESS_MS): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; stderr: ${this.stderr}; lines: ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Exit code, failing the test if the process is still alive after the bound. */
  async exitCode(timeoutMs = LIVENESS_MS): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.child.kill('SIGKILL');
      assert.fail(`hsu run did not exit within ${timeoutMs} ms; stderr: ${this.stderr}`);
    }
    return result;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
