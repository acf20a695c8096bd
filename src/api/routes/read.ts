/** The read endpoints: master info, workers, one worker, its history, the tail of its logs. */
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import { hsuVersion } from '../../cli/version.js';
import { LOG_STREAMS, logFilePath } from '../logs/files.js';
import { MAX_TAIL_LINES, tailLog } from '../logs/tail.js';
import type { Router } from '../http/router.js';
import { json } from '../http/reply.js';
import type { LogTail, MasterInfo } from '../schemas.js';
import { queryOf, summary, workerId, type RouteContext } from './context.js';

export const tailQuerySchema = z.strictObject({
  lines: z.coerce.number().int().min(0).max(MAX_TAIL_LINES).default(50),
});

export function readRoutes(app: Router, ctx: RouteContext): void {
  const { host } = ctx;
  const { master } = host;
  let version: string | undefined;

  app.get('/', () => {
    const info: MasterInfo = {
      name: 'hsu',
      version: (version ??= hsuVersion()),
      node: process.version,
      pid: process.pid,
      status: host.phase?.() ?? (master.closing ? 'stopping' : 'running'),
      started_at: new Date(ctx.startedAt).toISOString(),
      uptime_ms: Date.now() - ctx.startedAt,
      config_file: host.configFile ?? null,
      state_dir: host.stateDir ?? null,
      log_dir: host.logDir,
      workers: master.listWorkers().length,
      shutdown_timeout_ms: host.shutdownTimeoutMs ?? null,
    };
    return json(info);
  });

  app.get('/services', () => {
    const { registry, router } = master.services;
    const routes = new Map(router.diagnostics().map((d) => [d.service, d]));
    const services = registry
      .services()
      .sort()
      .map((service) => ({ service, instances: registry.instances(service).map((i) => ({ ...i })), route: (routes.get(service) as Record<string, unknown> | undefined) ?? null }));
    return json({ services });
  });

  app.get('/cluster', () => {
    const view = master.clusterView();
    if (view === undefined) throw hsuError('CLUSTER_NOT_JOINED', 'this master is not part of a cluster (no master.cluster block in its config)');
    return json(view);
  });

  app.get('/workers', () => json({ workers: master.listWorkers().map((id) => summary(master.getWorkerStateWithDiagnostics(id))) }));
  app.get('/workers/:id', (request) => json(master.getWorkerStateWithDiagnostics(workerId(request))));
  app.get('/workers/:id/history', (request) => {
    const id = workerId(request);
    return json({ worker_id: id, history: master.getWorkerStateWithDiagnostics(id).history });
  });

  app.get('/workers/:id/logs', async (request) => {
    const id = workerId(request);
    const { lines } = queryOf(request, tailQuerySchema);
    assertHasLogFiles(ctx, id);
    const [stdout, stderr] = await Promise.all(LOG_STREAMS.map((stream) => tailLog(logFilePath(host.logDir, id, stream), lines)));
    const view = (t: NonNullable<typeof stdout>): LogTail['stdout'] => ({ file: t.file, exists: t.exists, size: t.size, lines: t.lines, truncated: t.truncated });
    const body: LogTail = { worker_id: id, stdout: view(stdout!), stderr: view(stderr!) };
    return json(body);
  });

}

/** Inline modules log through the master's logger; only runtimes that capture output have files. */
export function assertHasLogFiles(ctx: RouteContext, id: string): void {
  const details = ctx.host.master.getWorkerStateWithDiagnostics(id).details;
  if (details.output === undefined) {
    throw hsuError('API_NO_LOG_FILES', `worker '${id}' runs ${details.kind === 'inline' ? "inline: its log lines are in the master's log" : `as '${details.kind}', which writes no log files`}`, {
      worker_id: id,
      runtime: details.kind,
    });
  }
}
