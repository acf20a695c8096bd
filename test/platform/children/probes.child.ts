/**
 * A library user with a thread module and a hosted (child process) module whose isHealthy() never
 * answers, each under a periodic health check. Reports the health, restart and state events, what
 * diagnostics and calls said while an unhealthy stop was under way, what the module saw of the
 * probe's timeout, and what keeps the process alive before the master and after shutdown().
 * Ends by itself; never calls process.exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Master, type HealthEvent, type RestartEvent, type StateChangeEvent } from '../../../src/index.js';
import { platformFixture } from '../support.js';
import { activeResources, report, settle, waitFor } from './report.js';

const CHECK = { interval: '100ms', timeout: '250ms', failure_threshold: 2 } as const;

const logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-probes-'));
const baseline = activeResources();
const master = new Master({ logDir, shutdownTimeoutMs: 10_000 });
const module = { module_type: 'plugin', module_path: platformFixture('hung-health.mjs') } as const;
const common = { health_check: CHECK, stop_timeout: '3s', restart: { policy: 'on-failure', backoff: { initial: '50ms', max: '100ms', jitter: 0 } } } as const;
master.addWorker({ id: 'thr', type: 'module', module: { ...module, isolation: 'thread' }, ...common });
master.addWorker({ id: 'host', type: 'process', module, ...common });
const ids = ['thr', 'host'];

const states: StateChangeEvent[] = [];
const restarts: RestartEvent[] = [];
const health: HealthEvent[] = [];
const whileStopping: Record<string, { state: string; stop_cause: string | null; call: string; history_cause: string | undefined }> = {};
master.on('health', (e) => health.push(e));
master.on('restart', (e) => restarts.push(e));
master.on('state', (e) => {
  states.push(e);
  if (e.to !== 'stopping' || e.cause !== 'unhealthy' || whileStopping[e.worker_id] !== undefined) return;
  // Delivered right after the transition, while the instance is still being stopped.
  const d = master.getWorkerStateWithDiagnostics(e.worker_id);
  const entry = { state: d.state, stop_cause: d.stop_cause, call: 'pending', history_cause: d.history.at(-1)?.cause };
  whileStopping[e.worker_id] = entry;
  master.call(e.worker_id, 'probes').then(
    () => (entry.call = 'answered'),
    (error: unknown) => (entry.call = String((error as { code?: string }).code)),
  );
});

await master.start();
/** What an instance saw of the probes once at least one reached it (it may be replaced any moment: retry). */
async function probesSeen(id: string): Promise<{ calls: number; bounds: number[] }> {
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
    const answer = (await master.call(id, 'probes').catch(() => undefined)) as { calls: number; bounds: number[] } | undefined;
    if (answer !== undefined && answer.calls > 0) return answer;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { calls: 0, bounds: [] };
}
const seen: Record<string, { calls: number; bounds: number[] }> = {};
for (const id of ids) seen[id] = await probesSeen(id);
await waitFor('an unhealthy restart of both workers', () => ids.every((id) => restarts.some((r) => r.worker_id === id && r.cause === 'unhealthy')));
await waitFor('both workers running again', () => ids.every((id) => states.filter((s) => s.worker_id === id && s.to === 'running').length >= 2));
await waitFor('the calls made while stopping to settle', () => ids.every((id) => whileStopping[id]?.call !== 'pending'));
const stopCauseAfterRestart = Object.fromEntries(ids.map((id) => [id, master.getWorkerStateWithDiagnostics(id).stop_cause]));
const lastError = Object.fromEntries(ids.map((id) => [id, master.getWorkerStateWithDiagnostics(id).last_error?.code ?? null]));
const shutdownReport = await master.shutdown();
await settle();
const after = activeResources();
rmSync(logDir, { recursive: true, force: true });
report({
  baseline,
  after,
  shutdown: shutdownReport,
  seen,
  whileStopping,
  stopCauseAfterRestart,
  lastError,
  health: health.map((h) => ({ worker_id: h.worker_id, status: h.status, consecutive_failures: h.consecutive_failures, reason: h.reason })),
  restarts: restarts.map((r) => ({ worker_id: r.worker_id, cause: r.cause })),
  transitions: Object.fromEntries(ids.map((id) => [id, states.filter((s) => s.worker_id === id).map((s) => `${s.from}->${s.to}${s.cause === undefined ? '' : `(${s.cause})`}`)])),
});
