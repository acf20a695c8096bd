/** The read endpoints: master info, workers, one worker, its history, the tail of its logs. */
import { Hono } from 'hono';
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import { hsuVersion } from '../../cli/version.js';
import { LOG_STREAMS, logFilePath } from '../logs/files.js';
import { MAX_TAIL_LINES, tailLog } from '../logs/tail.js';
import type { LogTail, MasterInfo } from '../schemas.js';
import { queryOf, summary, workerId, type RouteContext } from './context.js';

export const tailQuerySchema = z.strictObject({
  lines: z.coerce.number().int().min(0).max(MAX_TAIL_LINES).default(50),
});

export function readRoutes(ctx: RouteContext): Hono {
  const { host } = ctx;
  const { master } = host;
  const app = new Hono();
  let version: string | undefined;

  app.get('/', (c) => {
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
    return c.json(info);
  });

  app.get('/services', (c) => {
    const { registry, router } = master.services;
    const routes = new Map(router.diagnostics().map((d) => [d.service, d]));
    const services = registry
      .services()
      .sort()
      .map((service) => ({ service, instances: registry.instances(service).map((i) => ({ ...i })), route: (routes.get(service) as Record<string, unknown> | undefined) ?? null }));
    return c.json({ services });
  });

  app.get('/cluster', (c) => {
    const view = master.clusterView();
    if (view === undefined) throw hsuError('CLUSTER_NOT_JOINED', 'this master is not part of a cluster (no master.cluster block in its config)');
    return c.json(view);
  });

  app.get('/workers', (c) => c.json({ workers: master.listWorkers().map((id) => summary(master.getWorkerStateWithDiagnostics(id))) }));
  app.get('/workers/:id', (c) => c.json(master.getWorkerStateWithDiagnostics(workerId(c))));
  app.get('/workers/:id/history', (c) => {
    const id = workerId(c);
    return c.json({ worker_id: id, history: master.getWorkerStateWithDiagnostics(id).history });
  });

  app.get('/workers/:id/logs', async (c) => {
    const id = workerId(c);
    const { lines } = queryOf(c, tailQuerySchema);
    assertHasLogFiles(ctx, id);
    const [stdout, stderr] = await Promise.all(LOG_STREAMS.map((stream) => tailLog(logFilePath(host.logDir, id, stream), lines)));
    const view = (t: NonNullable<typeof stdout>): LogTail['stdout'] => ({ file: t.file, exists: t.exists, size: t.size, lines: t.lines, truncated: t.truncated });
    const body: LogTail = { worker_id: id, stdout: view(stdout!), stderr: view(stderr!) };
    return c.json(body);
  });

  return app;
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
