/**
 * `hsu shutdown [--force]`: asks the master to stop gracefully (or forced) and waits until its
 * process is gone, so a script can start the next one right after. A master embedded in a program
 * (serveControlPlane) closes its API once it has shut down while the program goes on: an API gone
 * for {@link EMBEDDED_GRACE_MS} with the process still alive is that master, stopped.
 */
import type { MasterInfo } from '../../api/schemas.js';
import { isAlive } from '../../os/proc.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { openSession, type ClientArgs } from './session.js';

/** Beyond the master's own shutdown deadline: the time its forced stops and exit may take. */
const EXIT_MARGIN_MS = 15_000;
/** `hsu run` exits within milliseconds of closing its API; a program that runs on is an embedded master. */
const EMBEDDED_GRACE_MS = 2_000;

export async function shutdownCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const info = await call<MasterInfo>(session.endpoint, 'GET', '/');
  await call(session.endpoint, 'POST', '/shutdown', { force: args.force });
  const bound = (info.shutdown_timeout_ms ?? 30_000) + EXIT_MARGIN_MS;
  const how = await waitForStop(info.pid, bound, () => answers(session.endpoint));
  const gone = how !== 'running';
  if (session.json) session.emit({ ok: gone, pid: info.pid, stopped: gone, ...(how === 'api-closed' ? { process_runs_on: true } : {}) });
  else if (how === 'exited') io.out(`hsu: master pid ${info.pid} stopped\n`);
  else if (how === 'api-closed') io.out(`hsu: master stopped; its program (pid ${info.pid}) goes on running\n`);
  else io.err(`hsu: master pid ${info.pid} is still running after ${Math.round(bound / 1000)} s\n`);
  return gone ? 0 : 1;
}

async function answers(endpoint: Parameters<typeof call>[0]): Promise<boolean> {
  return call(endpoint, 'GET', '/').then(
    () => true,
    () => false,
  );
}

async function waitForStop(pid: number, timeoutMs: number, apiAnswers: () => Promise<boolean>): Promise<'exited' | 'api-closed' | 'running'> {
  const deadline = Date.now() + timeoutMs;
  let apiGoneAt: number | undefined;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'exited'; // a zombie counts as gone: it only waits for its parent
    if (apiGoneAt === undefined) {
      if (!(await apiAnswers())) apiGoneAt = Date.now();
    } else if (Date.now() - apiGoneAt >= EMBEDDED_GRACE_MS) return 'api-closed';
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return isAlive(pid) ? 'running' : 'exited';
}
