// What the platform tests share beyond test/helpers: child scripts run as a library user would run
// them (their own process, a JSON report on stdout, exiting by themselves), the CLI as a function
// of argv, and the append-only event logs the fixtures write.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { main, type CliIo } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/paths.js';

export { waitFor } from '../conformance/harness.js';

/** Absolute path of a compiled child script under dist/test/platform/children. */
export function childScript(name: string): string {
  return path.join(repoRoot, 'dist', 'test', 'platform', 'children', `${name}.js`);
}

/** Absolute path of a fixture under test/fixtures/platform (plain JS, not compiled). */
export function platformFixture(name: string): string {
  return path.join(repoRoot, 'test', 'fixtures', 'platform', name);
}

/** Absolute path of a compiled TypeScript fixture under dist/test/fixtures/platform. */
export function compiledFixture(name: string): string {
  return path.join(repoRoot, 'dist', 'test', 'fixtures', 'platform', name);
}

export interface ChildOutcome<R> {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The last line of stdout that starts with `REPORT `, parsed. */
  readonly report: R | undefined;
}

/**
 * Runs `node <script> ...args` and waits for it to end by itself. Only a hang hits the bound: the
 * child is then SIGKILLed and the outcome says so (code null, signal SIGKILL), for the test to fail.
 */
export async function runChild<R>(script: string, args: readonly string[] = [], options: { execArgv?: readonly string[]; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ChildOutcome<R>> {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  clearTimeout(timer);
  const line = stdout
    .split('\n')
    .filter((l) => l.startsWith('REPORT '))
    .at(-1);
  return { code, signal, stdout, stderr, report: line === undefined ? undefined : (JSON.parse(line.slice('REPORT '.length)) as R) };
}

/** Asserts that a child ended by itself with code 0 and printed its report; returns the report. */
export function reportOf<R>(outcome: ChildOutcome<R>): R {
  assert.equal(outcome.signal, null, `the child did not end by itself (killed by ${String(outcome.signal)} at the liveness bound); stderr:\n${outcome.stderr}`);
  assert.equal(outcome.code, 0, `the child exited with ${String(outcome.code)}; stderr:\n${outcome.stderr}\nstdout:\n${outcome.stdout}`);
  assert.ok(outcome.report !== undefined, `the child printed no REPORT line; stdout:\n${outcome.stdout}`);
  return outcome.report;
}

/** `hsu <argv>` in-process, with its output captured. */
export async function cli(argv: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (text) => void (out += text), err: (text) => void (err += text) };
  const code = await main(argv, io);
  return { code, out, err };
}

/** The lines of an append-only event log a fixture writes (missing file: none yet). */
export function logLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Index of the first line equal to `line`, failing the test when it is absent. */
export function indexOfLine(lines: readonly string[], line: string): number {
  const at = lines.indexOf(line);
  assert.notEqual(at, -1, `'${line}' missing from the log:\n${lines.join('\n')}`);
  return at;
}
