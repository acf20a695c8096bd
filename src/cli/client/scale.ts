/**
 * `hsu scale <id> <n>`: run n replicas of a worker that has replicas, like `pm2 scale`. New ones
 * start if the worker runs (at the lowest free numbers); the highest-numbered stop first, each finishing its calls in flight. The count
 * holds until the master restarts, or until a reload finds the file's `instances:` changed.
 */
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import type { ControlReply } from './control.js';
import { paint, stateColor } from './render.js';
import { openSession, workerPath, type ClientArgs } from './session.js';

export async function scaleCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const [id, count] = args.positionals as [string, string];
  const instances = Number(count);
  const session = await openSession(args, io);
  const { changed, worker, replicas } = await call<ControlReply>(session.endpoint, 'POST', workerPath(id, '/scale'), { instances });
  const all = replicas ?? [{ id: worker.id, state: worker.state, pid: worker.pid }];
  if (session.json) {
    session.emit({ id, ok: true, changed, instances: all.length, replicas: all.map((r) => ({ id: r.id, state: r.state, pid: r.pid })) });
    return 0;
  }
  io.out(`${id}: ${changed ? '' : 'already '}${all.length} replicas\n`);
  for (const r of all) io.out(`  ${r.id}: ${paint(session.style, stateColor(r.state), r.state)}${r.pid === null ? '' : ` (pid ${r.pid})`}\n`);
  return 0;
}
