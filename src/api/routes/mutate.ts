/**
 * The mutations: start, stop, restart (optionally forced), scale, add and remove a worker at run time,
 * reload the config file, shut down. Start and stop are idempotent like `systemctl`: asking for
 * the state a worker is already in answers 200 with `changed: false` instead of an error.
 */
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import { OPERATIONS, type WorkerState } from '../../lifecycle/states.js';
import type { Master } from '../../master/master.js';
import type { Router } from '../http/router.js';
import { json, type Reply } from '../http/reply.js';
import { controlBodySchema, scaleBodySchema, shutdownBodySchema } from '../schemas.js';
import { queryOf, readBody, readJson, summary, workerId, type RouteContext } from './context.js';

const flag = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const addQuerySchema = z.strictObject({ start: flag.default(true) });
const removeQuerySchema = z.strictObject({ force: flag.default(false) });

const ACTIVE: readonly WorkerState[] = ['starting', 'running'];
const STOPPABLE: readonly WorkerState[] = [...OPERATIONS.stop, 'stopping'];

export function mutateRoutes(app: Router, ctx: RouteContext): void {
  const { host } = ctx;
  const { master } = host;
  const result = (id: string, changed: boolean): Reply => {
    const replicas = master.listWorkerIds().includes(id) ? master.listReplicas(id) : [id];
    if (replicas.length <= 1) return json({ changed, worker: master.getWorkerStateWithDiagnostics(replicas[0] ?? id) });
    const all = replicas.map((replica) => master.getWorkerStateWithDiagnostics(replica));
    return json({ changed, worker: all[0], replicas: all.map((w) => summary(w)) });
  };

  app.post('/workers/:id/start', async (request) => {
    const id = workerId(request);
    await readBody(ctx, request, z.strictObject({}), 'start request'); // a start has nothing to force
    if (master.getWorkerStates(id).every((state) => ACTIVE.includes(state))) return result(id, false);
    await master.startWorker(id);
    return result(id, true);
  });

  app.post('/workers/:id/stop', async (request) => {
    const id = workerId(request);
    const { force } = await readBody(ctx, request, controlBodySchema, 'stop request');
    if (!master.getWorkerStates(id).some((state) => STOPPABLE.includes(state))) return result(id, false);
    await master.stopWorker(id, { force });
    return result(id, true);
  });

  app.post('/workers/:id/restart', async (request) => {
    const id = workerId(request);
    const { force } = await readBody(ctx, request, controlBodySchema, 'restart request');
    await master.restartWorker(id, { force });
    return result(id, true);
  });

  // Like `pm2 scale`: until the master restarts, or a reload finds the file's `instances:` changed.
  app.post('/workers/:id/scale', async (request) => {
    const id = workerId(request);
    const { instances } = await readBody(ctx, request, scaleBodySchema, 'scale request');
    const refusal = master.scalingRefusal(id, instances);
    if (refusal !== undefined) throw hsuError('API_SCALE_UNSUPPORTED', refusal, { worker_id: id, instances });
    const before = master.listReplicas(id).length;
    await master.scaleWorker(id, instances);
    return result(id, before !== instances);
  });

  app.post('/workers', async (request) => {
    const { start } = queryOf(request, addQuerySchema);
    // Validated exactly like a config entry: CONFIG_INVALID with each problem's key path.
    const config = await readJson(ctx, request);
    master.addWorker(config as never);
    const id = (config as { id: string }).id;
    if (start && master.getWorkerConfig(id).enabled) {
      // A worker that fails to start stays added, failed_start with its error, like one from the file.
      await master.startWorker(id).catch((error: unknown) => ctx.logger?.warn({ worker: id, err: error }, 'worker added through the API failed to start'));
    }
    return json(master.getWorkerStateWithDiagnostics(id), 201);
  });

  app.delete('/workers/:id', async (request) => {
    const id = workerId(request);
    const { force } = queryOf(request, removeQuerySchema);
    await stopIfActive(master, id, force);
    await master.removeWorker(id);
    return json({ removed: id });
  });

  app.post('/reload', async (request) => {
    await readBody(ctx, request, z.strictObject({}), 'reload request');
    if (host.reload === undefined) throw hsuError('API_RELOAD_UNAVAILABLE', 'this master was not started from a config file, so there is nothing to reload');
    return json(await host.reload());
  });

  app.post('/shutdown', async (request) => {
    const { force } = await readBody(ctx, request, shutdownBodySchema, 'shutdown request');
    if (host.shutdown === undefined) throw hsuError('API_SHUTDOWN_UNAVAILABLE', 'this master is embedded in a program that did not hand its shutdown to the API');
    host.shutdown(force);
    return json({ shutting_down: true as const, pid: process.pid, forced: force, process_exits: host.processExits ?? true }, 202);
  });

}

async function stopIfActive(master: Master, id: string, force: boolean): Promise<void> {
  if (master.getWorkerStates(id).some((state) => STOPPABLE.includes(state))) await master.stopWorker(id, { force });
}
