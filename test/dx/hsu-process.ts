/**
 * The real `hsu` binary (package.json bin: dist/src/cli/bin.js) run as a child with --json logs,
 * its log records collected as they come, and waits on them. Used by the watch and --env tests
 * and by bench/dx.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

export const HSU_BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');

export type LogLine = Record<string, unknown> & { msg?: string; worker?: string };

export class HsuProcess {
  readonly records: LogLine[] = [];
  private readonly child: ChildProcess;
  private readonly waiters = new Set<() => void>();
  private text = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
    const { NODE_TEST_CONTEXT: _inherited, ...parent } = process.env;
    // `node` in a worker's executable_path is this Node (24), found first in PATH.
    const full = { ...parent, PATH: `${path.dirname(process.execPath)}:${parent.PATH ?? ''}`, ...env };
    this.child = spawn(process.execPath, [HSU_BIN, ...args], { cwd, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer): void => {
      this.text += chunk.toString('utf8');
      const lines = this.text.split('\n');
      this.text = lines.pop() ?? '';
      for (const line of lines) {
        try {
          this.records.push(JSON.parse(line) as LogLine);
        } catch {
          this.records.push({ msg: line, raw: true });
        }
      }
      for (const wake of [...this.waiters]) wake();
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  /** Records matching `match`, in order. */
  matching(match: (r: LogLine) => boolean): LogLine[] {
    return this.records.filter(match);
  }

  /** Resolves once `count` records match (default 1), with the last of them; rejects after `timeoutMs` with the log so far. */
  waitFor(match: (r: LogLine) => boolean, what: string, count = 1, timeoutMs = 20_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.matching(match);
        if (found.length >= count) {
          done();
          resolve(found[count - 1] as LogLine);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}; log:\n${this.records.map((r) => JSON.stringify(r)).join('\n')}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then the exit code once the master is gone. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

/** A `watch:` restart record of `worker`. */
export const restartOf = (worker: string) => (r: LogLine): boolean => r.worker === worker && r.reason === 'watch' && typeof r.msg === 'string' && r.msg.startsWith('watch: ');
