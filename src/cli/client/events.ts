/** `hsu events [id]`: the master's lifecycle events as they happen, until Ctrl-C. */
import type { CliIo } from '../main.js';
import { clock, paint, stateColor, type Style } from './render.js';
import { followEvents, interruptSignal } from './sse.js';
import { openSession, type ClientArgs } from './session.js';

export async function eventsCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const worker = args.positionals[0];
  const interrupt = interruptSignal();
  try {
    const end = await followEvents(
      session.endpoint,
      `/events${worker === undefined ? '' : `?worker=${encodeURIComponent(worker)}`}`,
      (event, data) => (session.json ? session.emit({ event, data }) : io.out(`${describe(session.style, event, data as Record<string, unknown>)}\n`)),
      interrupt.signal,
      () => io.err(`hsu: watching the events of master pid ${session.endpoint.pid}${worker === undefined ? '' : ` for ${worker}`} (Ctrl-C stops)\n`),
    );
    if (end === 'ended' && !session.json) io.err('hsu: the master closed the event stream\n');
    return 0;
  } finally {
    interrupt.dispose();
  }
}

function describe(style: Style, event: string, d: Record<string, unknown>): string {
  const at = typeof d.at === 'number' || typeof d.at === 'string' ? clock(d.at) : clock(Date.now());
  const who = paint(style, 'bold', String(d.worker_id ?? 'master'));
  switch (event) {
    case 'state': {
      const to = String(d.to);
      const why = d.reason === undefined ? '' : `  ${String(d.reason)}`;
      return `${at}  ${who}  ${String(d.from)} -> ${paint(style, stateColor(to), to)}${d.pid === null || d.pid === undefined ? '' : ` (pid ${String(d.pid)})`}${why}`;
    }
    case 'restart':
      return `${at}  ${who}  restart #${String(d.attempt)} (${String(d.cause)}) in ${String(d.delay_ms)} ms`;
    case 'health':
      return `${at}  ${who}  health ${paint(style, stateColor(String(d.status)), String(d.status))}${d.reason === undefined ? '' : `  ${String(d.reason)}`}`;
    case 'scale':
      return `${at}  ${who}  scale ${String(d.from)} -> ${String(d.to)}  ${String(d.reason)}`;
    case 'cluster':
      return `${at}  ${paint(style, 'bold', 'cluster')}  ${describeCluster(style, d)}`;
    case 'reload':
      return `${at}  ${paint(style, 'bold', 'reload')}  ${d.ok === true ? 'ok' : paint(style, 'red', 'with errors')}: +${(d.added as unknown[]).length} -${(d.removed as unknown[]).length} ~${(d.changed as unknown[]).length}`;
    default:
      return `${at}  ${who}  ${event} ${JSON.stringify(d)}`;
  }
}

/** A cluster event in words: the connection's change, the node-name lease, or an error. */
function describeCluster(style: Style, d: Record<string, unknown>): string {
  if (d.type === 'lease') {
    const state = String(d.state);
    const holder = d.holder as { pid?: unknown; host?: unknown } | undefined;
    return `node name ${paint(style, state === 'acquired' ? 'green' : 'red', state)}${d.took_over === true ? ' (taken over)' : ''}${holder === undefined || state === 'acquired' ? '' : ` held by pid ${String(holder.pid)} on ${String(holder.host)}`}`;
  }
  if (d.type === 'error') return paint(style, 'red', `error: ${String(d.message)}`);
  const bad = d.type === 'disconnected' || d.type === 'connecting';
  const what = `${String(d.connection)} connection ${paint(style, bad ? 'red' : 'green', String(d.type))}`;
  if (d.type === 'connecting') return `${what} (attempt ${String(d.attempt)}: ${String(d.error)})`;
  return d.server === undefined ? what : `${what} ${String(d.server)}`;
}
