/**
 * `npm run bench`: every benchmark job in sequence, each in a fresh process, then one table.
 * `node dist/bench/run.js calls:thread restart` runs only the named jobs.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { JobReport } from './child.js';
import { note, type Row } from './common.js';
import { JOBS } from './jobs.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'child.js');
const EXIT_GRACE_MS = 10_000;
const JOB_TIMEOUT_MS = 120_000;

/** Which code was measured: the commit, and whether src/ had uncommitted changes. */
function codeVersion(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
    return `code: commit ${commit}${dirty > 0 ? ` + ${dirty} uncommitted change(s) in src/` : ''}`;
  } catch {
    return 'code: not a git checkout';
  }
}

function machineFacts(strippedCaCerts: boolean): string[] {
  const cpus = os.cpus();
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  return [
    `node ${process.version}, ${process.platform} ${os.release()} ${process.arch}`,
    `os.cpus().length = ${cpus.length} (${cpus[0]?.model ?? 'unknown cpu'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
    `load average at start: ${load}`,
    codeVersion(),
    ...(strippedCaCerts
      ? ['NODE_EXTRA_CA_CERTS was set; unset for every benchmark process and child (it adds ~100+ ms to each Node start, floor and hsu alike, which would dilute every ratio)']
      : []),
  ];
}

/** Resolves with the child's exit, or 'timeout' after `ms`. */
function exitWithin(child: ChildProcess, ms: number): Promise<[number | null, string | null] | 'timeout'> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve([child.exitCode, child.signalCode]);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('timeout'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve([code, signal]);
    });
  });
}

async function runJob(name: string): Promise<{ rows: Row[]; problems: string[] }> {
  const child = fork(CHILD, [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const problems: string[] = [];
  const reported = once(child, 'message').then(([message]) => message as JobReport, () => undefined);
  const outcome = await Promise.race([reported, exitWithin(child, JOB_TIMEOUT_MS)]);
  const report = outcome === undefined || Array.isArray(outcome) || outcome === 'timeout' ? undefined : outcome;
  // A job must exit by itself once done: an open handle (thread, child, timer) is a cleanup bug.
  const exit = await exitWithin(child, report === undefined ? 0 : EXIT_GRACE_MS);
  if (exit === 'timeout') {
    problems.push(report === undefined ? `job ${name} hung (no report within ${JOB_TIMEOUT_MS / 1000} s)` : `job ${name} did not exit within ${EXIT_GRACE_MS / 1000} s of reporting (open handles)`);
    child.kill('SIGKILL');
    await once(child, 'exit');
  } else if (exit[0] !== 0) {
    problems.push(`job ${name} exited with ${exit[1] ?? `code ${exit[0]}`}`);
  }
  if (report === undefined) return { rows: [], problems: [...problems, `job ${name} reported nothing`] };
  if (report.leftovers.length > 0) problems.push(`job ${name} left children alive: ${report.leftovers.join(', ')}`);
  return { rows: report.rows, problems };
}

function table(rows: readonly Row[]): string {
  const head = ['Benchmark', 'Result (p50 / rate)', 'p90 / p99', 'Floor (same run)', 'Ratio', 'Target', 'Status'];
  const body = rows.map((r) => [r.name, r.value, r.spread || '—', r.floor, r.ratio, r.target, r.status]);
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const strippedCaCerts = process.env.NODE_EXTRA_CA_CERTS !== undefined;
  delete process.env.NODE_EXTRA_CA_CERTS;
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => JOBS[name] === undefined);
  if (unknown.length > 0) throw new Error(`unknown job(s) ${unknown.join(', ')}; jobs: ${Object.keys(JOBS).join(', ')}`);
  const names = only.length > 0 ? only : Object.keys(JOBS);

  const facts = machineFacts(strippedCaCerts);
  for (const fact of facts) note(fact);
  const started = performance.now();
  const rows: Row[] = [];
  const problems: string[] = [];
  for (const name of names) {
    const result = await runJob(name);
    rows.push(...result.rows);
    problems.push(...result.problems);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);

  const out = process.stdout;
  const loadAtEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  out.write(`\n${facts.map((f) => `- ${f}`).join('\n')}\n- load average at end: ${loadAtEnd}\n- total benchmark time: ${seconds} s\n\n`);
  out.write(`${table(rows)}\n\n`);
  const misses = rows.filter((r) => r.status === 'MISS').map((r) => r.name);
  out.write(misses.length === 0 ? 'All targets met.\n' : `Targets missed: ${misses.join('; ')}\n`);
  if (problems.length > 0) {
    out.write(`Problems:\n${problems.map((p) => `- ${p}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

await main();
