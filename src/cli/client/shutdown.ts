/**
 * `hsu shutdown [--force]`: asks the master to stop gracefully (or forced) and waits until its
 * process is gone, so a script can start the next one right after.
 */
import type { MasterInfo } from '../../api/schemas.js';
import { isAlive } from '../../os/proc.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { openSession, type ClientArgs } from './session.js';

/** Beyond the master's own shutdown deadline: the time its forced stops and exit may take. */
const EXIT_MARGIN_MS = 15_000;

export async function shutdownCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const info = await call<MasterInfo>(session.endpoint, 'GET', '/');
  await call(session.endpoint, 'POST', '/shutdown', { force: args.force });
  const bound = (info.shutdown_timeout_ms ?? 30_000) + EXIT_MARGIN_MS;
  const gone = await waitForExit(info.pid, bound);
  if (session.json) session.emit({ ok: gone, pid: info.pid, stopped: gone });
  else if (gone) io.out(`hsu: master pid ${info.pid} stopped\n`);
  else io.err(`hsu: master pid ${info.pid} is still running after ${Math.round(bound / 1000)} s\n`);
  return gone ? 0 : 1;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true; // a zombie counts as gone: it only waits for its parent
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return !isAlive(pid);
}
