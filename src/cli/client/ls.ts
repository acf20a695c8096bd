/** `hsu ls`: every worker in one table, as `pm2 ls` shows them. */
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { duration, percent, stateColor, table, type Cell } from './render.js';
import { memoryText, usageOf } from './usage.js';
import { openSession, type ClientArgs } from './session.js';

type Summary = Omit<WorkerDiagnostics, 'history'>;
const HEADER = ['id', 'type', 'deployment', 'state', 'health', 'pid', 'uptime', 'restarts', 'cpu', 'memory'];

export async function lsCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const { workers } = await call<{ workers: Summary[] }>(session.endpoint, 'GET', '/workers');
  if (session.json) {
    session.emit({ workers });
    return 0;
  }
  if (workers.length === 0) {
    io.out('no workers\n');
    return 0;
  }
  io.out(table(session.style, HEADER, workers.map(row)));
  return 0;
}

function row(w: Summary): Cell[] {
  const usage = usageOf(w);
  return [
    { text: w.id, color: 'bold' },
    { text: w.type },
    { text: w.runtime },
    { text: w.state, ...color(w.state) },
    { text: w.state === 'running' ? w.health.status : '-', ...(w.state === 'running' ? color(w.health.status) : {}) },
    { text: w.pid === null ? '-' : String(w.pid) },
    { text: duration(w.uptime_ms) },
    { text: String(w.restart_count), ...(w.restart_count > 0 ? { color: 'yellow' as const } : {}) },
    { text: percent(usage.cpu_percent) },
    { text: memoryText(usage) },
  ];
}

function color(state: string): { color?: NonNullable<ReturnType<typeof stateColor>> } {
  const c = stateColor(state);
  return c === undefined ? {} : { color: c };
}

