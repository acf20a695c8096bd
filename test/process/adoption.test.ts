// Adoption after a real `kill -9` of a real `hsu run`: a worker with on_master_restart: adopt is
// supervised again by the next `hsu run` of the same config (same pid, running, adopted), one with
// stop is killed and started anew, a hosted module is started anew; never duplicated, never
// orphaned (counted in /proc). A later crash of the adopted process is detected and restarted by
// policy; a config change between the runs means kill and start fresh.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Master } from '../../src/index.js';
import { HsuRun, type LogLine } from '../helpers/hsu-run.js';
import { alivePids, diagnostics, killMarked, processesWithMarker, tempDir, waitForGone, waitForMarkerGone, waitForSample } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { ownCgroups, until } from './support.js';

after(() => assert.deepEqual(ownCgroups(), [], 'no cgroup of this test process may be left'));

interface Setup {
  readonly dir: string;
  readonly config: string;
  readonly marker: string;
  /** Writes the config; `keepEnv` changes the adopt worker's config. */
  write(options?: { keepEnv?: Record<string, string>; keepScript?: string; web?: boolean }): void;
  /** Whether the config has the integrated `web` worker (adopt) too. */
  web: boolean;
}

let serial = 0;
let journal = '';

function setup(dir: string): Setup {
  const marker = `adopt-${process.pid}-${++serial}`;
  const config = path.join(dir, 'hsu.yaml');
  const write = ({ keepEnv = {}, keepScript = '../os/fixtures/idle.mjs', web = false }: { keepEnv?: Record<string, string>; keepScript?: string; web?: boolean } = {}): void => {
    self.web = web;
    const webWorker = web
      ? [
          '  - id: web',
          '    type: process',
          '    management: integrated',
          '    on_master_restart: adopt',
          '    limits: { memory: { max_rss: 4GB, policy: restart } }',
          `    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('process/http-server.mjs'))}], environment: ${JSON.stringify({ HSU_TEST_MARKER: marker })} }`,
        ]
      : [];
    const env = (extra: Record<string, string>): string => JSON.stringify({ HSU_TEST_MARKER: marker, ...extra });
    writeFileSync(
      config,
      [
        'master:',
        '  state_dir: .hsu',
        '  log_dir: logs',
        '  sample_interval: 100ms',
        '  shutdown_timeout: 5s',
        'workers:',
        '  - id: keep',
        '    type: process',
        '    on_master_restart: adopt',
        '    restart: { backoff: { initial: 50ms, max: 50ms, jitter: 0 } }',
        `    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture(keepScript))}], environment: ${env(keepEnv)} }`,
        '  - id: fresh',
        '    type: process',
        '    on_master_restart: stop',
        `    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('../os/fixtures/idle.mjs'))}], environment: ${env({})} }`,
        '  - id: hosted',
        '    type: process',
        `    module: { module_type: plugin, module_path: ${JSON.stringify(fixture('plugins/ok.mjs'))} }`,
        ...webWorker,
        '',
      ].join('\n'),
    );
  };
  const self: Setup = { dir, config, marker, write, web: false };
  write();
  return self;
}

function running(run: HsuRun, worker: string, nth = 1): Promise<LogLine> {
  const matches = (l: LogLine): boolean => l.msg === 'state' && l.worker === worker && l.to === 'running';
  return run.waitFor(`${worker} running #${nth}`, (l) => matches(l) && run.lines.filter(matches).indexOf(l) === nth - 1, 20_000);
}

/** The master's children that are workers: its log writers (split under a shell, one per stream) are left out. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const logWriter = readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('--additional-suffix=.log');
      if (!logWriter && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      // gone
    }
  }
  return alivePids(out);
}

/** cgroup directories a master with this pid made (any hierarchy). */
function cgroupsOfMaster(pid: number): string[] {
  const out: string[] = [];
  for (const root of readdirSync('/sys/fs/cgroup')) {
    try {
      for (const entry of readdirSync(path.join('/sys/fs/cgroup', root, 'hsu'))) if (entry.startsWith(`hsu.m${pid}s`)) out.push(path.join(root, 'hsu', entry));
    } catch {
      // no hsu parent in this hierarchy
    }
  }
  return out;
}

/** Starts the first `hsu run`, waits for its three workers, then kills it with SIGKILL. */
async function firstRunKilled(s: Setup): Promise<{ run: HsuRun; keep: number; fresh: number; hosted: number; web?: number }> {
  const run = new HsuRun(s.config, s.dir);
  const keep = Number((await running(run, 'keep')).pid);
  const fresh = Number((await running(run, 'fresh')).pid);
  const hosted = Number((await running(run, 'hosted')).pid);
  const web = s.web ? Number((await running(run, 'web')).pid) : undefined;
  assert.deepEqual(processesWithMarker(s.marker).sort(), [keep, fresh, ...(web === undefined ? [] : [web])].sort());
  run.signal('SIGKILL');
  await run.exitCode();
  journal = readFileSync(path.join(s.dir, '.hsu', 'pids.jsonl'), 'utf8');
  return { run, keep, fresh, hosted, ...(web === undefined ? {} : { web }) };
}

/** Asserts that the runs left no cgroup behind (call after the last run exited on its own). */
function assertNoCgroups(runs: readonly HsuRun[]): void {
  assert.deepEqual(
    runs.flatMap((run) => cgroupsOfMaster(run.pid)),
    [],
    'the cgroups of every run are removed',
  );
}

/** Whatever happened: no process, cgroup or temp dir of the test survives it. */
async function cleanup(s: Setup, runs: HsuRun[], remove: () => void): Promise<void> {
  for (const run of runs) run.kill();
  await Promise.all(runs.map((run) => run.exited));
  killMarked(s.marker);
  await waitForMarkerGone(s.marker);
  for (const dir of runs.flatMap((run) => cgroupsOfMaster(run.pid))) {
    const full = path.join('/sys/fs/cgroup', dir);
    try {
      for (const pid of readFileSync(path.join(full, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
    await until(`${dir} removed`, () => {
      try {
        rmdirSync(full);
        return true;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code === 'ENOENT';
      }
    });
  }
  remove();
}

void describe('adoption after kill -9 of hsu run', () => {
  void it('adopts the adopt worker (same pid), replaces the stop worker and the hosted module, duplicates nothing, and restarts the adopted one when it crashes', async () => {
    const { dir, remove } = tempDir('adopt');
    const s = setup(dir);
    const runs: HsuRun[] = [];
    try {
      const first = await firstRunKilled(s);
      runs.push(first.run);
      // A dead master's detached workers live on (the last-resort hook cannot run on SIGKILL).
      assert.deepEqual(alivePids([first.keep, first.fresh]).sort(), [first.keep, first.fresh].sort());

      const second = new HsuRun(s.config, s.dir);
      runs.push(second);
      const keep = await running(second, 'keep');
      assert.equal(keep.pid, first.keep, `the same process, adopted; journal ${journal}; the new master said: ${JSON.stringify(second.lines.filter((l) => l.worker === 'keep' || l.orphans !== undefined))}`);
      await second.waitFor('the adoption log line', (l) => l.worker === 'keep' && /adopted a process left running/.test(l.msg ?? '') && l.pid === first.keep);
      const fresh = Number((await running(second, 'fresh')).pid);
      const hosted = Number((await running(second, 'hosted')).pid);
      assert.notEqual(fresh, first.fresh);
      assert.notEqual(hosted, first.hosted);
      assert.deepEqual(await waitForGone([first.fresh, first.hosted]), [], 'what is not adopted is killed');
      await second.waitFor('master running', (l) => l.msg === 'master running');
      // Exactly the configured processes: keep (adopted, not a child) and the two new children.
      assert.deepEqual(processesWithMarker(s.marker).sort(), [first.keep, fresh].sort());
      assert.deepEqual(childrenOf(second.pid).sort(), [fresh, hosted].sort());
      assert.equal(childrenOf(second.pid).includes(first.keep), false);

      // A later crash of the adopted process is seen (it is not our child) and restarted by policy.
      process.kill(first.keep, 'SIGKILL');
      await second.waitFor('keep waiting_restart', (l) => l.msg === 'state' && l.worker === 'keep' && l.from === 'running' && l.to === 'waiting_restart');
      const restarted = Number((await running(second, 'keep', 2)).pid);
      assert.notEqual(restarted, first.keep);
      assert.ok(childrenOf(second.pid).includes(restarted), 'the replacement is the new master’s own child');
      assert.deepEqual(processesWithMarker(s.marker).sort(), [restarted, fresh].sort());

      second.signal('SIGTERM');
      assert.equal(await second.exitCode(), 0);
      assert.deepEqual(await waitForMarkerGone(s.marker), []);
      assertNoCgroups([second]); // the first run's leftover is its own test below
    } finally {
      await cleanup(s, runs, remove);
    }
  });

  void it("once the adopted process crashed and was replaced, the dead master's cgroup it ran in is removed", async () => {
    const { dir, remove } = tempDir('adopt');
    const s = setup(dir);
    const runs: HsuRun[] = [];
    try {
      const first = await firstRunKilled(s);
      runs.push(first.run);
      const second = new HsuRun(s.config, s.dir);
      runs.push(second);
      assert.equal((await running(second, 'keep')).pid, first.keep);
      await running(second, 'hosted');
      process.kill(first.keep, 'SIGKILL');
      await running(second, 'keep', 2);
      // The replacement runs in a group of the new master; the old one is empty and of no use to anyone.
      second.signal('SIGTERM');
      assert.equal(await second.exitCode(), 0);
      assert.deepEqual(cgroupsOfMaster(first.run.pid), [], "the dead master's group of the adopted worker must not be left behind");
    } finally {
      await cleanup(s, runs, remove);
    }
  });

  void it('a config change of the adopt worker between the runs: killed and started fresh', async () => {
    const { dir, remove } = tempDir('adopt');
    const s = setup(dir);
    const runs: HsuRun[] = [];
    try {
      const first = await firstRunKilled(s);
      runs.push(first.run);
      s.write({ keepEnv: { CHANGED: '1' } });
      const second = new HsuRun(s.config, s.dir);
      runs.push(second);
      const keep = Number((await running(second, 'keep')).pid);
      assert.notEqual(keep, first.keep);
      assert.deepEqual(await waitForGone([first.keep, first.fresh]), []);
      await running(second, 'hosted');
      assert.deepEqual(processesWithMarker(s.marker).length, 2);
      second.signal('SIGTERM');
      assert.equal(await second.exitCode(), 0);
      assertNoCgroups(runs);
    } finally {
      await cleanup(s, runs, remove);
    }
  });

  void it('the adopted worker in diagnostics: running, same pid, adopted: true, its cgroup reopened; an integrated one keeps its port', async () => {
    const { dir, remove } = tempDir('adopt');
    const s = setup(dir);
    s.write({ web: true });
    const runs: HsuRun[] = [];
    let master: Master | undefined;
    try {
      const first = await firstRunKilled(s);
      runs.push(first.run);
      const oldGroups = cgroupsOfMaster(first.run.pid);
      assert.ok(oldGroups.some((g) => g.endsWith('.keep')), JSON.stringify(oldGroups));
      // The next master of the same config, in this process, so its diagnostics can be read.
      master = await Master.fromConfigFile(s.config);
      const results = await master.start();
      assert.ok(results.every((r) => r.ok), JSON.stringify(results));
      const d = diagnostics(master, 'keep');
      assert.equal(d.state, 'running');
      assert.equal(d.pid, first.keep);
      assert.equal(d.details.adopted, true);
      assert.match(String(d.details.cgroup), new RegExp(`^hsu\\.m${first.run.pid}s\\d+\\.keep$`));
      assert.notEqual(diagnostics(master, 'fresh').pid, first.fresh);
      assert.equal(diagnostics(master, 'fresh').details.adopted, undefined);
      // Supervised again, not just remembered: sampled (in its old cgroup) like any worker.
      const sample = await waitForSample(master, 'keep');
      assert.ok((sample.rss_bytes ?? 0) > 10 * 1024 * 1024);
      assert.equal(sample.cgroup, d.details.cgroup);
      // The integrated worker is adopted with its port: same pid, same port, the endpoint still says so.
      const web = master.getWorkerStateWithDiagnostics('web');
      assert.equal(web.pid, first.web);
      assert.equal(web.details.adopted, true);
      const port = web.details.port as number;
      assert.equal(typeof port, 'number');
      assert.equal(web.endpoint?.address, `http://127.0.0.1:${port}`);
      assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), `ok ${first.web}`);
      const webResources = web.watchdogs.resources as { enforcement: { enforcement: string } | null };
      assert.equal(webResources.enforcement?.enforcement, 'cgroup-v1', 'its limits are enforced again, through its reopened group');
      // Only the adopted workers' old groups were spared; fresh's was emptied and removed.
      await until('the dead master’s other groups removed', () => cgroupsOfMaster(first.run.pid).every((g) => g.endsWith('.keep') || g.endsWith('.web')));
      await master.shutdown();
      master = undefined;
      assert.deepEqual(await waitForGone([first.keep, first.web ?? 0]), [], 'an adopted worker is stopped with the master like any other');
      assertNoCgroups(runs);
    } finally {
      await master?.shutdown();
      await cleanup(s, runs, remove);
    }
  });
});

void describe('adoption: a dead master whose workers all ended with it', () => {
  void it("the next master removes the dead master's cgroups even when there is nothing to adopt", async () => {
    const { dir, remove } = tempDir('adopt');
    const marker = `adopt-${process.pid}-${++serial}`;
    const config = path.join(dir, 'hsu.yaml');
    writeFileSync(
      config,
      [
        'master: { state_dir: .hsu, log_dir: logs, sample_interval: 100ms, shutdown_timeout: 5s }',
        'workers:',
        '  - id: loyal',
        '    type: process',
        `    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('process/dies-with-parent.mjs'))}], environment: ${JSON.stringify({ HSU_TEST_MARKER: marker })} }`,
        '',
      ].join('\n'),
    );
    const s: Setup = { dir, config, marker, write: () => undefined, web: false };
    const runs: HsuRun[] = [];
    try {
      const first = new HsuRun(config, dir);
      runs.push(first);
      const loyal = Number((await running(first, 'loyal')).pid);
      // Running is reported at the spawn, while the launcher may still be joining the cgroup: the
      // program must have started (and seen its parent) before the parent dies.
      await first.waitFor('loyal ready', (l) => l.worker === 'loyal' && l.msg === `ready ${loyal}`);
      assert.ok(cgroupsOfMaster(first.pid).length > 0, 'the first master made a group for its worker');
      first.signal('SIGKILL');
      await first.exitCode();
      assert.deepEqual(await waitForGone([loyal]), [], 'the worker ended with its master');
      const second = new HsuRun(config, dir);
      runs.push(second);
      await running(second, 'loyal');
      await second.waitFor('master running', (l) => l.msg === 'master running');
      // The dead master's empty groups are of no use to anyone: swept at the start, like those of adopted orphans.
      await until("the dead master's groups swept", () => (cgroupsOfMaster(first.pid).length === 0 ? true : undefined), 5_000).catch(() => undefined);
      assert.deepEqual(cgroupsOfMaster(first.pid), [], "a dead master's cgroups must not outlive it when the next master starts");
      second.signal('SIGTERM');
      assert.equal(await second.exitCode(), 0);
    } finally {
      await cleanup(s, runs, remove);
    }
  });
});

void describe('adoption: two masters on one host', () => {
  void it("a master that sweeps its own predecessor's groups leaves another dead master's adoptable workers alone", async () => {
    // Master A (its own config and state dir) dies; its worker waits to be adopted by A's next run.
    const a = tempDir('adopt');
    const b = tempDir('adopt');
    const sa = setup(a.dir);
    const sb = setup(b.dir);
    const runs: HsuRun[] = [];
    let master: Master | undefined;
    try {
      const firstA = await firstRunKilled(sa);
      runs.push(firstA.run);
      // Meanwhile master B, unrelated but for the host, restarts after a crash of its own: it adopts and sweeps.
      const firstB = await firstRunKilled(sb);
      runs.push(firstB.run);
      master = await Master.fromConfigFile(sb.config);
      await master.start();
      assert.equal(diagnostics(master, 'keep').pid, firstB.keep, "B adopted its own worker");
      await master.shutdown();
      master = undefined;
      assert.deepEqual(alivePids([firstA.keep]), [firstA.keep], "B's sweep must not kill a worker of another dead master (A's), which A's next run is to adopt");
      const secondA = new HsuRun(sa.config, sa.dir);
      runs.push(secondA);
      assert.equal((await running(secondA, 'keep')).pid, firstA.keep, "A's next run adopts its worker");
      secondA.signal('SIGTERM');
      await secondA.exitCode();
    } finally {
      await master?.shutdown();
      await cleanup(sb, runs, b.remove);
      await cleanup(sa, [], a.remove);
    }
  });
});

void describe('adoption: output of an adopted worker', () => {
  void it('keeps reaching its log file after the adoption', async () => {
    const { dir, remove } = tempDir('adopt');
    const s = setup(dir);
    s.write({ keepScript: 'process/ticker.mjs' });
    const runs: HsuRun[] = [];
    try {
      const first = await firstRunKilled(s);
      runs.push(first.run);
      const second = new HsuRun(s.config, s.dir);
      runs.push(second);
      const keep = Number((await running(second, 'keep')).pid);
      assert.equal(keep, first.keep, 'a worker that writes output must survive its master\'s SIGKILL (no SIGPIPE/EPIPE) and be adopted');
      const log = path.join(s.dir, 'logs', 'keep.out.log');
      const ticksOf = (pid: number): number[] =>
        readFileSync(log, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`tick ${pid} `))
          .map((l) => Number(l.split(' ')[2]));
      const before = Math.max(0, ...ticksOf(keep));
      await until('new ticks from the adopted process in its log file', () => (Math.max(0, ...ticksOf(keep)) > before + 5 ? true : undefined), 10_000, 100);
      second.signal('SIGTERM');
      await second.exitCode();
      assertNoCgroups(runs);
    } finally {
      await cleanup(s, runs, remove);
    }
  });
});
