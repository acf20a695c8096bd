/**
 * `hsu dashboard`: opens the dashboard of a running master on a loopback port (the master's API
 * may listen on its unix socket only) and prints the URL to open, with the token in the URL's
 * fragment (a fragment never reaches a server or its log; the page keeps it for the tab). Runs
 * until Ctrl-C.
 */
import { startDashboardProxy } from '../dashboard/proxy.js';
import { hsuError } from '../errors.js';
import { call } from './client/connection.js';
import { interruptSignal } from './client/sse.js';
import { openSession, type ClientArgs } from './client/session.js';
import type { CliIo } from './main.js';

export interface DashboardArgs extends ClientArgs {
  readonly port: number | undefined;
}

export async function dashboardCommand(args: DashboardArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const token = session.endpoint.token;
  if (token === undefined) throw hsuError('API_UNAUTHORIZED', 'the dashboard needs the API token: it is neither in HSU_TOKEN nor in the token file api.json names', { state_dir: session.endpoint.stateDir });
  await call(session.endpoint, 'GET', '/'); // the master answers: else say so now, not in the browser
  const interrupt = interruptSignal();
  const proxy = await startDashboardProxy(session.endpoint, token, args.port ?? 0);
  try {
    const url = `${proxy.url}#token=${encodeURIComponent(token)}`;
    if (session.json) session.emit({ url, port: proxy.port, pid: session.endpoint.pid });
    else io.out(`hsu: the dashboard of master pid ${session.endpoint.pid}: ${url}\n    (Ctrl-C stops; the URL holds the API token: share it as you would the token)\n`);
    await new Promise<void>((resolve) => {
      if (interrupt.signal.aborted) resolve();
      else interrupt.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    return 0;
  } finally {
    interrupt.dispose();
    await proxy.close();
  }
}
