/**
 * `hsu shutdown [--force]`: asks the master to stop gracefully (or forced) and waits until its
 * process is gone, so a script can start the next one right after. A master embedded in a program
 * (serveControlPlane) says in its reply that its process goes on: then the wait is for its API to
 * close, which it does once the master has shut down.
 */
import type { MasterInfo } from '../../api/schemas.js';
import { isAlive } from '../../os/proc.js';
import type { CliIo } from '../main.js';
import { call, type Endpoint } from './connection.js';
import { openSession, type ClientArgs } from './session.js';

/** Beyond the master's own shutdown deadline: the time its forced stops and exit may take. */
const EXIT_MARGIN_MS = 15_000;
/** One look at whether an embedded master's API still answers; a master too busy to answer in this is still up. */
const PROBE_MS = 1_000;
const POLL_MS = 50;

interface ShutdownReply {
  readonly process_exits?: boolean;
}

export async function shutdownCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const info = await call<MasterInfo>(session.endpoint, 'GET', '/');
  const reply = await call<ShutdownReply>(session.endpoint, 'POST', '/shutdown', { force: args.force });
  const bound = (info.shutdown_timeout_ms ?? 30_000) + EXIT_MARGIN_MS;
  // A master from before the field existed is `hsu run`: its process exits.
  const embedded = reply.process_exits === false;
  const stopped = embedded ? await until(() => closed(session.endpoint), bound) : await until(() => Promise.resolve(!isAlive(info.pid)), bound);
  if (session.json) session.emit({ ok: stopped, pid: info.pid, stopped, ...(embedded ? { process_runs_on: true } : {}) });
  else if (!stopped) io.err(`hsu: master pid ${info.pid} is still running after ${Math.round(bound / 1000)} s\n`);
  else if (embedded) io.out(`hsu: master stopped; its program (pid ${info.pid}) goes on running\n`);
  else io.out(`hsu: master pid ${info.pid} stopped\n`);
  return stopped ? 0 : 1;
}

/** True once the API no longer answers (a refused or reset connection, a removed socket). */
async function closed(endpoint: Endpoint): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const busy = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_MS)));
  // Only a connection that cannot be made (CLIENT_NO_MASTER: refused, no socket file) or is cut means
  // closed: an HTTP error is an answer.
  const probe = call(endpoint, 'GET', '/').then(
    () => false,
    (error: { code?: string }) => ['HSU_ERR_CLIENT_NO_MASTER', 'ECONNRESET', 'EPIPE'].includes(error.code ?? ''),
  );
  try {
    return await Promise.race([probe, busy]);
  } finally {
    clearTimeout(timer);
  }
}

async function until(done: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true; // for a pid: a zombie counts as gone, it only waits for its parent
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return done();
}
