/** `hsu cluster ls`: every live master of this master's cluster, its heartbeat, loop lag and instances. */
import type { ClusterView } from '../../cluster/view.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { duration, paint, stateColor } from './render.js';
import { openSession, type ClientArgs } from './session.js';

export async function clusterCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const sub = args.positionals[0] ?? 'ls';
  if (sub !== 'ls') {
    io.err(`hsu: unknown cluster command '${sub}'; try: hsu cluster ls\n`);
    return 1;
  }
  const session = await openSession(args, io);
  const view = await call<ClusterView>(session.endpoint, 'GET', '/cluster');
  if (session.json) {
    session.emit(view);
    return 0;
  }
  const s = session.style;
  const header = ['NODE', 'HOST', 'PID', 'HEARTBEAT', 'LOOP LAG', 'INSTANCES'];
  const rows = view.nodes.map((n) => [
    `${n.node}${n.self ? ' *' : ''}`,
    n.host ?? '-',
    n.pid === null ? '-' : String(n.pid),
    n.self ? 'self' : `${duration(n.heartbeat_age_ms)} ago`,
    n.loop_lag_ms === null ? '-' : `${Math.round(n.loop_lag_ms)}ms`,
    n.instances.length === 0 ? '-' : n.instances.map((i) => `${i.id}(${i.service}${i.health === 'healthy' ? '' : `, ${i.health}`})`).join(' '),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  const title = `cluster ${view.cluster}: this master is ${view.node}, NATS ${paint(s, stateColor(view.connection === 'connected' ? 'running' : 'failed'), view.connection)}, name lease ${view.lease}`;
  io.out(`${[title, paint(s, 'bold', line(header)), ...rows.map(line)].join('\n')}\n`);
  return 0;
}
