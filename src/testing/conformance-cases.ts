/**
 * What every module should do wherever it runs, checked by testModule unless `conformance: false`:
 * the user-facing part of the project's own conformance suite. Each case asserts through the
 * master only, with the same expectations in every deployment (plus one check per deployment of
 * what only that deployment can leak: timers and handles inline, the host process out of process).
 */
import assert from 'node:assert/strict';
import { isAlive } from '../os/proc.js';
import type { ModuleCase } from './test-module.js';

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: { code?: unknown; message?: unknown }) => {
    assert.equal(error.code, code, `expected ${code}, got ${String(error.code)}: ${String(error.message)}`);
    return true;
  });
}

/** Timers, sockets, watchers... of this process, by type; what a stopped inline module must give back. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function grown(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after].filter(([type, n]) => n > (before.get(type) ?? 0)).map(([type, n]) => `${type} +${n - (before.get(type) ?? 0)}`);
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

export const CONFORMANCE_CASES: Readonly<Record<string, ModuleCase>> = {
  'conformance: starts, says who it is, and stops cleanly': async (m) => {
    const running = m.diagnostics();
    assert.equal(running.state, 'running');
    const info = running.details.module as { name?: unknown; version?: unknown } | undefined;
    assert.equal(typeof info?.name, 'string', 'info.name must be a string');
    assert.equal(typeof info?.version, 'string', 'info.version must be a string');
    await m.stop();
    const stopped = m.diagnostics();
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.last_exit?.forced, false, `stop() must finish within stop_timeout (it was forced: ${JSON.stringify(stopped.last_exit)})`);
    assert.equal(stopped.last_exit?.error ?? null, null, `stop() must not fail: ${JSON.stringify(stopped.last_exit?.error)}`);
  },
  'conformance: is healthy once started': async (m) => {
    const health = await m.health();
    assert.equal(health.status, 'healthy', `isHealthy() after start: ${health.status}${health.reason === undefined ? '' : ` (${health.reason})`}`);
  },
  'conformance: a restart brings up a new instance that runs': async (m) => {
    // Counted from the state events: an inline restart can finish within the millisecond started_at is stamped in.
    const transitions: string[] = [];
    const off = m.master.on('state', (event) => {
      if (event.worker_id === m.id) transitions.push(event.to);
    });
    try {
      await m.restart();
    } finally {
      off();
    }
    const again = m.diagnostics();
    assert.equal(again.state, 'running');
    assert.deepEqual(transitions.filter((to) => to === 'starting' || to === 'running'), ['starting', 'running'], `a new instance must start: ${transitions.join(' -> ')}`);
    assert.equal(again.last_error, null, `the restart left an error: ${JSON.stringify(again.last_error)}`);
  },
  'conformance: an unknown action is refused with ACTION_NOT_FOUND': async (m) => {
    await rejectsWithCode(m.call('__no_such_action__', {}, { timeout: 5_000 }), 'HSU_ERR_ACTION_NOT_FOUND');
  },
  'conformance: calls after a stop fail fast with CALL_NOT_RUNNING': async (m) => {
    await m.stop();
    const actions = (m.diagnostics().details.actions as string[] | undefined) ?? [];
    await rejectsWithCode(m.call(actions[0] ?? 'any', {}), 'HSU_ERR_CALL_NOT_RUNNING');
  },
  'conformance: stopping gives back what starting took': async (m) => {
    if (m.deployment === 'process') {
      const pid = m.diagnostics().pid;
      assert.equal(typeof pid, 'number');
      await m.stop();
      assert.equal(isAlive(pid as number), false, `the host process ${String(pid)} outlived the stop`);
      return;
    }
    if (m.deployment === 'thread') {
      await m.stop();
      assert.equal(m.state(), 'stopped');
      return;
    }
    // Inline: one warm cycle first, so lazily created handles of the master itself are not counted.
    await m.stop();
    await settle();
    const before = activeResources();
    await m.start();
    await m.stop();
    await settle();
    const leaked = grown(before, activeResources());
    assert.deepEqual(leaked, [], `stop() left timers or handles of start() running in the master's process: ${leaked.join(', ')}`);
  },
};
