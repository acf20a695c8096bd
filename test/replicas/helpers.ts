// Shared by the replica proofs: a master built from a YAML file written to a fresh directory, the
// paths its workers need, per-replica fault flags, polling, and the "nothing of hsu's is left"
// check every scenario ends with (active handles back to the baseline, no child process, no timer).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Master } from '../../src/index.js';
import { alivePids, tempDir } from '../helpers/master-helpers.js';
import { fixture, repoRoot } from '../helpers/paths.js';
import { TimerTracker, sleep } from '../mesh/helpers.js';

export const LIVENESS_MS = 20_000;
export const REPLICA = path.join(repoRoot, 'test', 'replicas', 'fixtures', 'replica.mjs');
export const HTTP_SERVER = fixture('process/http-server.mjs');
export const NODE = process.execPath;

/** What a scenario's YAML may refer to. */
export interface Paths {
  /** The fixture module every replica runs. */
  readonly replica: string;
  /** The directory of fault flags (`config: { flags: ... }` of the fixture). */
  readonly flags: string;
  readonly node: string;
  readonly http: string;
}

export interface Scenario {
  readonly master: Master;
  readonly dir: string;
  readonly file: string;
  /** Switches a fault on for one replica (`sick`, `fail`, `slow`; see the fixture). */
  flag(fault: 'sick' | 'fail' | 'slow', replicaId: string): void;
  cure(fault: 'sick' | 'fail' | 'slow', replicaId: string): void;
}

export interface MasterSection {
  /** Default `off`: the isolation room proves cgroups; see the cgroups scenario in integrated.test.ts. */
  readonly cgroups?: 'auto' | 'off';
}

/** Writes `master:` (files under `dir`) + `workers:` to a YAML file in `dir` and returns its path. */
export function writeConfig(dir: string, workers: string, section: MasterSection = {}): string {
  const file = path.join(dir, 'hsu.yaml');
  writeFileSync(file, `master:\n  log_dir: ./logs\n  state_dir: ./state\n  shutdown_timeout: 10s\n  cgroups: ${section.cgroups ?? 'off'}\nworkers:\n${workers}`);
  return file;
}

export function pathsIn(dir: string): Paths {
  return { replica: REPLICA, flags: path.join(dir, 'flags'), node: NODE, http: HTTP_SERVER };
}

/**
 * Runs `body` against `Master.fromConfigFile` of the YAML `workers(paths)` gives, then shuts the
 * master down and proves nothing of it remains (see {@link openConfig}). The leftovers check is
 * skipped when the body failed, so its error is the one reported.
 */
export async function withConfig(workers: (paths: Paths) => string, body: (s: Scenario) => Promise<void>, section?: MasterSection): Promise<void> {
  const scenario = await openConfig(workers, section);
  let failed = true;
  try {
    await body(scenario);
    failed = false;
  } finally {
    await scenario.close(!failed);
  }
}

/**
 * A master from a YAML file in a fresh directory. `close(check)` shuts it down and, with `check`,
 * asserts that nothing of it remains: no child process, every active resource type back to its
 * count before the master existed, no timer created meanwhile still alive (unref'd ones included).
 */
export async function openConfig(workers: (paths: Paths) => string, section?: MasterSection): Promise<Scenario & { close: (check?: boolean) => Promise<void> }> {
  const baseline = activeResources();
  const timers = new TimerTracker();
  const { dir, remove } = tempDir('replicas');
  const paths = pathsIn(dir);
  mkdirSync(paths.flags);
  const file = writeConfig(dir, workers(paths), section);
  const pids = new Set<number>();
  let master: Master;
  try {
    master = await Master.fromConfigFile(file);
  } catch (error) {
    timers.stop();
    remove();
    throw error;
  }
  master.on('state', (event) => {
    if (typeof event.pid === 'number') pids.add(event.pid);
  });
  const flagPath = (fault: string, id: string): string => path.join(paths.flags, `${fault}-${id}`);
  return {
    master,
    dir,
    file,
    flag: (fault, id) => writeFileSync(flagPath(fault, id), ''),
    cure: (fault, id) => rmSync(flagPath(fault, id), { force: true }),
    close: async (check = true) => {
      await master.shutdown();
      const left = check ? await leftovers(baseline, [...pids], timers) : undefined;
      timers.stop();
      for (const pid of alivePids([...pids])) process.kill(pid, 'SIGKILL'); // a failed test must not leak into the next
      remove();
      if (left !== undefined) assert.deepEqual(left, { children: [], pids: [], resources: {}, timers: 0 }, 'something of hsu outlived master.shutdown()');
    },
  };
}

// ---- leftovers ---------------------------------------------------------------------------------

/** Counts per resource type keeping the loop alive (handles and requests). */
export function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

/** Live children of this process, from /proc (a replica process is one; its exit is reaped by Node). */
export function liveChildren(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === process.pid && fields[0] !== 'Z') out.push(Number(name));
    } catch {
      // exited between readdir and read
    }
  }
  return out;
}

/** What is still there after shutdown, once given a few seconds to settle (closing handles is asynchronous). */
async function leftovers(baseline: Map<string, number>, pids: number[], timers: TimerTracker): Promise<{ children: number[]; pids: number[]; resources: Record<string, number>; timers: number }> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const now = activeResources();
    const resources: Record<string, number> = {};
    // The test's own sleeps come and go; the runner's timers predate the baseline.
    for (const [type, count] of now) if (type !== 'Timeout' && count > (baseline.get(type) ?? 0)) resources[type] = count - (baseline.get(type) ?? 0);
    const found = { children: liveChildren(), pids: alivePids(pids), resources, timers: await timers.live() };
    const clean = found.children.length === 0 && found.pids.length === 0 && Object.keys(resources).length === 0 && found.timers === 0;
    if (clean || Date.now() > deadline) return found;
    await sleep(50);
  }
}

// ---- polling and counting ----------------------------------------------------------------------

/** Polls `check` every 10 ms until it holds; fails after the liveness bound (only a hang hits it). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = LIVENESS_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** What the fixture's `work` answers. */
export interface Served {
  readonly worker: string;
  readonly pid: number;
  readonly key: string | null;
}

export function count(values: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const value of values) out[value] = (out[value] ?? 0) + 1;
  return out;
}

/** The code of a rejection (failing when the promise resolves), with its context. */
export async function codeOf(promise: Promise<unknown>): Promise<{ code: string | undefined; message: string; context: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: string; message?: string; context?: Record<string, unknown> };
    return { code: e.code, message: e.message ?? String(error), context: e.context ?? {} };
  }
  assert.fail('expected a rejection');
}

/**
 * A load generator: `lanes` loops calling `call()` back to back until stopped; each outcome is
 * handed to `record`. `stop()` resolves once every lane has finished its last call.
 */
export function load(lanes: number, call: () => Promise<unknown>, record: (outcome: { ok: true; value: unknown } | { ok: false; error: unknown }) => void): { stop: () => Promise<void> } {
  let running = true;
  const loops = Array.from({ length: lanes }, async () => {
    while (running) {
      try {
        record({ ok: true, value: await call() });
      } catch (error) {
        record({ ok: false, error });
      }
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
