/**
 * `hsu start|stop|restart <id>... | all [--force]`: one request per worker, in order (`all` is
 * every worker in config order, reversed for stop, like a shutdown). A worker that fails does not
 * stop the others; the exit code is 1 if any did.
 */
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { paint, stateColor } from './render.js';
import { openSession, workerPath, type ClientArgs, type Session } from './session.js';

export type ControlVerb = 'start' | 'stop' | 'restart';

/** What the control API answers to start, stop, restart and scale (`replicas` for a worker with several). */
export interface ControlReply {
  readonly changed: boolean;
  readonly worker: WorkerDiagnostics;
  readonly replicas?: readonly { id: string; state: WorkerDiagnostics['state']; pid: number | null }[];
}

export async function controlCommand(verb: ControlVerb, args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const ids = await targets(session, args.positionals, verb);
  let failed = 0;
  for (const id of ids) {
    try {
      const body = verb === 'start' ? {} : { force: args.force };
      const { changed, worker, replicas } = await call<ControlReply>(session.endpoint, 'POST', workerPath(id, `/${verb}`), body);
      for (const w of replicas ?? [worker]) {
        if (session.json) session.emit({ id: replicas === undefined ? id : w.id, ok: true, changed, state: w.state, pid: w.pid });
        else io.out(`${replicas === undefined ? id : w.id}: ${changed ? '' : 'already '}${paint(session.style, stateColor(w.state), w.state)}${w.pid === null ? '' : ` (pid ${w.pid})`}\n`);
      }
    } catch (error) {
      failed += 1;
      const e = error as { code?: string; message: string };
      if (session.json) session.emit({ id, ok: false, error: { code: e.code ?? 'HSU_ERR_UNKNOWN', message: e.message } });
      else io.err(`hsu: ${id}: ${e.message} (${e.code ?? 'error'})\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

async function targets(session: Session, positionals: readonly string[], verb: ControlVerb): Promise<string[]> {
  if (!positionals.includes('all')) return [...positionals];
  const { workers } = await call<{ workers: { id: string }[] }>(session.endpoint, 'GET', '/workers');
  const ids = workers.map((w) => w.id);
  return verb === 'stop' ? ids.reverse() : ids;
}
