/**
 * `hsu run -d <config>`: the master as a daemon. The config is checked here first (its problems
 * print at once, with lines), a live master on the same state directory is refused with its pid,
 * then `hsu run` starts in its own session (setsid: no controlling terminal, the shell's SIGHUP
 * never reaches it) writing to `<state_dir>/master.log`. This process waits until the control API
 * says the master is running (exit 0) or the daemon dies (exit 1 with the reason from its log).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigForMaster } from '../master/config-loader.js';
import type { MasterInfo } from '../api/schemas.js';
import { hsuError } from '../errors.js';
import type { WorkerDiagnostics } from '../lifecycle/diagnostics.js';
import type { CliIo } from '../cli/main.js';
import { call, readEndpoint } from '../cli/client/connection.js';
import { MASTER_LOG_NAME, runningMasterPid } from './pid-file.js';

export interface DaemonOptions {
  readonly logLevel?: string;
  /** How long to wait for the master to report `running`. */
  readonly waitMs?: number;
  readonly json?: boolean;
}

const DEFAULT_WAIT_MS = 60_000;
const POLL_MS = 50;
const BIN = fileURLToPath(new URL('../cli/bin.js', import.meta.url));

export async function daemonize(configPath: string, options: DaemonOptions, io: CliIo): Promise<number> {
  const file = path.resolve(configPath);
  const config = await loadConfigForMaster(file);
  const api = config.master.api;
  if (!api.enabled) {
    throw hsuError('API_CONFIG_INVALID', `master.api.enabled is false in ${file}: a daemon without its control API could not be reached or stopped; run it in the foreground (hsu run) or enable the API`, { file });
  }
  const stateDir = config.master.state_dir;
  const owner = runningMasterPid(stateDir);
  if (owner !== undefined) {
    throw hsuError('STATE_DIR_IN_USE', `a master is already running on ${stateDir} (pid ${owner}); stop it first: hsu shutdown --state-dir ${stateDir}`, { state_dir: stateDir, pid: owner });
  }
  mkdirSync(stateDir, { recursive: true });
  const logFile = path.join(stateDir, MASTER_LOG_NAME);
  const offset = sizeOf(logFile);
  const fd = openSync(logFile, 'a', 0o600);
  const args = [BIN, 'run', file, '--json', ...(options.logLevel === undefined ? [] : ['--log-level', options.logLevel])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, HSU_DAEMON: '1' } });
  closeSync(fd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.once('exit', (code, signal) => (exit = { code, signal }));
  try {
    const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
    let answered = false;
    while (Date.now() < deadline) {
      if (exit !== undefined) return failed(io, options, logFile, offset, `it exited with ${exit.signal ?? `code ${exit.code}`}`);
      const info = await probe(stateDir, child.pid ?? -1);
      answered ||= info !== undefined;
      if (info?.status === 'running') return await report(io, options, stateDir, info, logFile);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (answered) {
      io.err(`hsu: the master (pid ${child.pid}) answers but is still starting its workers; watch it with: hsu ls\n`);
      return 0;
    }
    child.kill('SIGTERM'); // a daemon nobody can reach is worse than none
    return failed(io, options, logFile, offset, `its control API did not answer within ${Math.round((options.waitMs ?? DEFAULT_WAIT_MS) / 1000)} s`);
  } finally {
    child.unref();
  }
}

async function probe(stateDir: string, pid: number): Promise<MasterInfo | undefined> {
  try {
    const endpoint = readEndpoint(stateDir, 'the daemon');
    if (endpoint.pid !== pid) return undefined; // a stale api.json of an earlier master
    return await call<MasterInfo>(endpoint, 'GET', '/');
  } catch {
    return undefined;
  }
}

async function report(io: CliIo, options: DaemonOptions, stateDir: string, info: MasterInfo, logFile: string): Promise<number> {
  const endpoint = readEndpoint(stateDir, 'the daemon');
  const { workers } = await call<{ workers: WorkerDiagnostics[] }>(endpoint, 'GET', '/workers');
  const failedIds = workers.filter((w) => w.state === 'failed' || w.state === 'failed_start').map((w) => w.id);
  if (options.json === true) {
    io.out(`${JSON.stringify({ ok: true, pid: info.pid, state_dir: stateDir, log_file: logFile, workers: workers.length, failed: failedIds })}\n`);
    return 0;
  }
  const failedText = failedIds.length === 0 ? '' : `, ${failedIds.length} failed to start (${failedIds.join(', ')})`;
  io.out(`hsu: master running in the background (pid ${info.pid}): ${workers.length} worker${workers.length === 1 ? '' : 's'}${failedText}\n  log: ${logFile}\n  see it with: hsu ls${stateDir === path.resolve('.hsu') ? '' : ` --state-dir ${stateDir}`}\n`);
  return 0;
}

function failed(io: CliIo, options: DaemonOptions, logFile: string, offset: number, how: string): number {
  const reason = reasonFromLog(logFile, offset);
  if (options.json === true) io.out(`${JSON.stringify({ ok: false, reason: reason ?? how, log_file: logFile })}\n`);
  else io.err(`hsu: the master did not start: ${how}${reason === undefined ? '' : `\n  ${reason.split('\n').join('\n  ')}`}\n  (log: ${logFile})\n`);
  return 1;
}

/** The daemon's last words: error records of its JSON log, or the text `hsu` printed before it had a log. */
function reasonFromLog(logFile: string, offset: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8').slice(offset);
  } catch {
    return undefined;
  }
  const reasons: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((record.level ?? 0) >= 50) reasons.push([record.msg, record.err?.message].filter(Boolean).join(': '));
    } catch {
      reasons.push(line);
    }
  }
  return reasons.length === 0 ? undefined : reasons.slice(-8).join('\n');
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
