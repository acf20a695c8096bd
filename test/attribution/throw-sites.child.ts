/**
 * A master in a process of its own for the attribution matrix: an error no module code catches
 * is raised in the master's process, so it is observed from outside (the test runner's own
 * uncaughtException handler would fail the running test). argv: <site> <start|action>. Prints one
 * `RESULT <json>` line when the master survives; when it does not, its exit code is the answer.
 * Not a test file: throw-sites.test.ts runs it with `node`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Master } from '../../src/master/master.js';

const MODULE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/attribution/fixtures/throw-sites.mjs');
const [site = '', origin = 'action', attribution = 'on'] = process.argv.slice(2);
const logDir = mkdtempSync(path.join(os.tmpdir(), 'hsu-attribution-'));
const master = new Master({ logDir, attributeUncaughtErrors: attribution === 'on' });
const plugin = (config: Record<string, unknown>): { type: 'module'; module: { module_type: 'plugin'; module_path: string; config: Record<string, unknown> } } => ({
  type: 'module',
  module: { module_type: 'plugin', module_path: MODULE, config },
});
master.addWorker({ id: 'victim', ...plugin(origin === 'start' ? { site } : {}) });
master.addWorker({ id: 'sibling', ...plugin({}) });

interface Diag {
  state: string;
  restart_count: number;
  last_error?: { code: string; message: string };
}
const diag = (id: string): Diag => master.getWorkerStateWithDiagnostics(id) as unknown as Diag;

/** Polls until the victim was restarted after being charged, or `ms` pass (then: not charged). */
async function charged(ms: number): Promise<Diag | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const d = diag('victim');
    if (d.restart_count >= 1 && d.state === 'running') return d;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return undefined;
}

try {
  const started = await master.start();
  const start = started.find((r) => r.id === 'victim');
  let call: { ok: boolean; code?: string } | undefined;
  if (origin === 'action') {
    try {
      await master.call('victim', 'arm', site);
      call = { ok: true };
    } catch (error) {
      call = { ok: false, code: (error as { code?: string }).code ?? 'none' };
    }
  }
  if (site.endsWith('foreign-emitter')) process.kill(process.pid, 'SIGUSR2');
  const d = start?.ok === false || call?.ok === false ? undefined : await charged(3000);
  const sibling = diag('sibling');
  process.stdout.write(
    `RESULT ${JSON.stringify({ start_ok: start?.ok ?? false, start_code: start?.error?.code, call, charged_code: d?.last_error?.code, victim_state: diag('victim').state, sibling: { state: sibling.state, restart_count: sibling.restart_count } })}\n`,
  );
} finally {
  await master.shutdown();
  rmSync(logDir, { recursive: true, force: true });
}
