// The real `hsu` binary against a real daemon: a project directory with an hsu.yaml, commands run
// as child processes (their exit code, stdout and stderr), long-running ones (logs -f, events)
// with their lines as they come, and a teardown that leaves no process behind.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isAlive } from '../../src/os/proc.js';
import { killMarked, waitForGone, waitForMarkerGone } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';

export const BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
export const ECHO = path.join(repoRoot, 'test', 'api', 'fixtures', 'signal-echo.mjs');
export const RECONFIGURABLE = path.join(repoRoot, 'test', 'api', 'fixtures', 'reconfigurable.mjs');
const BOUND_MS = 20_000;

export interface Result {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs `hsu args...` to its end. */
export function hsu(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: { ...cleanEnv(), ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hsu ${args.join(' ')} did not finish within ${BOUND_MS} ms; out: ${out}; err: ${err}`));
    }, BOUND_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** The environment without the variables that would point hsu at another master. */
function cleanEnv(): NodeJS.ProcessEnv {
  const { HSU_STATE_DIR: _s, HSU_TOKEN: _t, ...rest } = process.env;
  return rest;
}

/** A command that runs until stopped (logs -f, events): its output lines as they arrive. */
export class Running {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  out = '';
  err = '';
  readonly exited: Promise<number | null>;

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (chunk: Buffer) => (this.out += chunk.toString()));
    this.child.stderr.on('data', (chunk: Buffer) => (this.err += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  async until(what: string, test: (out: string, err: string) => boolean): Promise<void> {
    const deadline = Date.now() + BOUND_MS;
    while (!test(this.out, this.err)) {
      if (Date.now() > deadline) assert.fail(`no ${what} within ${BOUND_MS} ms; out: ${this.out}; err: ${this.err}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

export interface Project {
  readonly dir: string;
  readonly marker: string;
  readonly config: string;
  readonly stateDir: string;
  write(workers: string, master?: string): void;
  hsu(...args: string[]): Promise<Result>;
  json<T = Record<string, unknown>>(...args: string[]): Promise<T>;
  masterPid(): number;
  dispose(): Promise<void>;
}

let projects = 0;

/** A process worker running signal-echo.mjs, marked for the leak check. */
export function echoEntry(id: string, marker: string, extra = ''): string {
  return `  - id: ${id}
    type: process
    stop_timeout: 5s
    restart: { policy: never }
    execution:
      executable_path: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(ECHO)}]
      environment: { HSU_TEST_MARKER: ${JSON.stringify(marker)}${extra} }
`;
}

export function moduleEntry(id: string, file: string, config: string): string {
  return `  - id: ${id}
    type: module
    module: { module_type: plugin, module_path: ${JSON.stringify(file)}, config: ${config} }
`;
}

export function createProject(): Project {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-cli-'));
  const marker = `cli-${process.pid}-${++projects}-${Date.now()}`;
  const config = path.join(dir, 'hsu.yaml');
  const stateDir = path.join(dir, '.hsu');
  const project: Project = {
    dir,
    marker,
    config,
    stateDir,
    write: (workers, master = '') => writeFileSync(config, `${master === '' ? '' : `master:\n${master}`}workers:\n${workers}`),
    hsu: (...args) => hsu(args, { cwd: dir }),
    json: async <T>(...args: string[]) => {
      const result = await hsu([...args, '--json'], { cwd: dir });
      assert.equal(result.code, 0, `hsu ${args.join(' ')} --json: ${result.err}${result.out}`);
      return JSON.parse(result.out) as T;
    },
    masterPid: () => Number(readFileSync(path.join(stateDir, 'master.pid'), 'utf8')),
    dispose: async () => {
      let pid: number | undefined;
      try {
        pid = project.masterPid();
      } catch {
        pid = undefined; // no daemon (any more)
      }
      if (pid !== undefined && isAlive(pid)) {
        await hsu(['shutdown', '--force'], { cwd: dir }).catch(() => undefined);
        if ((await waitForGone([pid])).length > 0) process.kill(pid, 'SIGKILL');
      }
      const left = await waitForMarkerGone(marker);
      killMarked(marker);
      rmSync(dir, { recursive: true, force: true });
      assert.deepEqual(left, [], `workers alive after the daemon stopped: ${left.join(', ')}`);
    },
  };
  return project;
}

export async function withProject(body: (p: Project) => Promise<void>): Promise<void> {
  const p = createProject();
  try {
    await body(p);
  } finally {
    await p.dispose();
  }
}

/** The session id of a process (field 6 of /proc/PID/stat). */
export function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}
