/** `hsu status <id>`: one worker's diagnostics and its recent transitions. */
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { clock, duration, paint, percent, stateColor } from './render.js';
import { memoryText, usageOf } from './usage.js';
import { openSession, workerPath, type ClientArgs } from './session.js';

const RECENT = 10;

export async function statusCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const id = args.positionals[0] ?? '';
  const w = await call<WorkerDiagnostics>(session.endpoint, 'GET', workerPath(id));
  if (session.json) {
    session.emit(w);
    return 0;
  }
  const s = session.style;
  const usage = usageOf(w);
  const facts: [string, string][] = [
    ['state', paint(s, stateColor(w.state), w.state)],
    ['type', `${w.type} (${w.runtime})`],
    ['enabled', String(w.enabled)],
    ['pid', w.pid === null ? '-' : String(w.pid)],
    ['started', w.started_at ?? '-'],
    ['uptime', duration(w.uptime_ms)],
    ['restarts', `${w.restart_count} (${w.consecutive_restarts} since the last stable run)`],
    ['health', `${paint(s, stateColor(w.health.status), w.health.status)}${w.health.reason === undefined ? '' : ` (${w.health.reason})`}`],
    ['cpu', percent(usage.cpu_percent)],
    ['memory', memoryText(usage)],
  ];
  if (w.endpoint !== null) facts.push(['endpoint', `${w.endpoint.type} ${w.endpoint.address}`]);
  if (w.stop_cause !== null) facts.push(['stop cause', w.stop_cause]);
  if (w.last_exit !== null) facts.push(['last exit', `${w.last_exit.at} code=${w.last_exit.exit_code ?? '-'} signal=${w.last_exit.signal ?? '-'}${w.last_exit.forced ? ' (forced)' : ''}`]);
  if (w.last_error !== null) facts.push(['last error', paint(s, 'red', `${w.last_error.code}: ${w.last_error.message}`)]);
  const width = Math.max(...facts.map(([k]) => k.length));
  const lines = [paint(s, 'bold', w.id), ...facts.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`), '', paint(s, 'bold', 'recent transitions')];
  for (const t of w.history.slice(-RECENT)) {
    lines.push(`  ${clock(t.at)}  ${t.from} -> ${paint(s, stateColor(t.to), t.to)}${t.reason === undefined ? '' : `  ${t.reason}`}`);
  }
  if (w.history.length === 0) lines.push('  none');
  io.out(`${lines.join('\n')}\n`);
  return 0;
}

