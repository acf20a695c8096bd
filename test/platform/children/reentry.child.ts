/**
 * A library user whose 'state' listener stops a worker the moment it sees waiting_restart: once
 * on the immediate-restart path (the first crash) and once with a long backoff timer armed (the
 * second crash). Reports every event in publication order and what keeps the process alive before
 * the master existed and after removeWorker + shutdown. Ends by itself; never calls process.exit.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Master } from '../../../src/index.js';
import { plugin } from '../../helpers/master-helpers.js';
import { activeResources, report, settle, waitFor } from './report.js';

const logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-reentry-'));
const baseline = activeResources();
const master = new Master({ logDir, shutdownTimeoutMs: 10_000 });
const events: { name: string; worker_id: string; to?: string; cause?: string }[] = [];
const stopOutcomes: Record<string, string> = {};
// A long backoff: an armed timer that survived the stop would hold the process well past the test's bound.
const restart = { policy: 'always', backoff: { initial: '60s', max: '60s', jitter: 0 }, intensity: { max_restarts: 10, window: '120s' } } as const;
const crashing = (id: string) => ({ id, type: 'module', restart, module: { module_type: 'plugin', module_path: plugin('fails-after-start.mjs'), config: { fail_after_ms: 20 } } }) as const;
master.addWorker(crashing('immediate'));
master.addWorker(crashing('backoff'));

/** Stop `id` from inside the listener on its n-th waiting_restart. */
const stopOn: Record<string, number> = { immediate: 1, backoff: 2 };
const seen: Record<string, number> = {};
master.on('state', (e) => {
  events.push({ name: 'state', worker_id: e.worker_id, to: e.to });
  if (e.to !== 'waiting_restart') return;
  seen[e.worker_id] = (seen[e.worker_id] ?? 0) + 1;
  if (seen[e.worker_id] !== stopOn[e.worker_id]) return;
  master.stopWorker(e.worker_id).then(
    () => (stopOutcomes[e.worker_id] = 'stopped'),
    (error: unknown) => (stopOutcomes[e.worker_id] = String((error as { code?: string }).code)),
  );
});
master.on('restart', (e) => events.push({ name: 'restart', worker_id: e.worker_id, cause: e.cause }));

await master.startWorker('immediate');
await master.startWorker('backoff');
await waitFor('both stops to resolve', () => Object.keys(stopOutcomes).length === 2);
const states = { immediate: master.getWorkerState('immediate'), backoff: master.getWorkerState('backoff') };
// A little longer than a turn of the loop: a relaunch queued behind the stop would show up now.
await new Promise((resolve) => setTimeout(resolve, 200));
const statesLater = { immediate: master.getWorkerState('immediate'), backoff: master.getWorkerState('backoff') };
await master.removeWorker('immediate');
await master.removeWorker('backoff');
await master.shutdown();
await settle();
const after = activeResources();
rmSync(logDir, { recursive: true, force: true });
report({ baseline, after, events, stopOutcomes, states, statesLater });
