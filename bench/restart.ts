/**
 * Restart after `kill -9` of a process worker, default restart policy (the first restart after a
 * stable run is immediate). Measured from the kill to the new child's `running` state and to its
 * first stdout line, beside the raw fork floor and the raw "respawn on exit" primitive.
 */
import { performance } from 'node:perf_hooks';
import { Master } from '../src/index.js';
import { fixture, nextEvent, note, scratchDir, verdict, type Row } from './common.js';
import { forkFloor, rawRespawnFloor } from './floors.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const IDLE_CHILD = fixture('idle-child.mjs');

export async function benchRestart(samples = 30): Promise<Row[]> {
  note(`restart: kill -9 a process worker (${samples} samples, interleaved with floors)...`);
  const scratch = scratchDir('restart');
  const master = new Master({ logDir: scratch.dir });
  const id = 'victim';
  master.addWorker({ id, type: 'process', execution: { executable_path: process.execPath, args: [IDLE_CHILD] } });
  const toExit: number[] = [];
  const toStarting: number[] = [];
  const toRunning: number[] = [];
  const toLine: number[] = [];
  const forks: number[] = [];
  const respawns: number[] = [];

  const cycle = async (): Promise<[number, number, number, number]> => {
    // A manual start resets the restart tracker, so every kill meets the default "first restart is immediate".
    const firstLine = nextEvent(master, 'output', (e) => e.worker_id === id && e.stream === 'stdout');
    await master.startWorker(id);
    const { pid: oldPid } = await firstLine;
    if (oldPid === null) throw new Error('process worker reported no pid');
    // Where the time goes: the exit seen by hsu (pipes closed), the new launch begun, the child spawned.
    const exit = nextEvent(master, 'exit', (e) => e.worker_id === id && e.pid === oldPid).then(() => performance.now());
    const starting = nextEvent(master, 'state', (e) => e.worker_id === id && e.to === 'starting').then(() => performance.now());
    const running = nextEvent(master, 'state', (e) => e.worker_id === id && e.to === 'running' && e.pid !== oldPid);
    const line = nextEvent(master, 'output', (e) => e.worker_id === id && e.stream === 'stdout' && e.pid !== oldPid);
    const t0 = performance.now();
    process.kill(oldPid, 'SIGKILL');
    await running;
    const tRunning = performance.now() - t0;
    await line;
    const tLine = performance.now() - t0;
    const tExit = (await exit) - t0;
    const tStarting = (await starting) - t0;
    await master.stopWorker(id);
    return [tExit, tStarting, tRunning, tLine];
  };

  try {
    for (let i = 0; i < 3; i++) {
      await cycle();
      await forkFloor();
      await rawRespawnFloor();
    }
    for (let i = 0; i < samples; i++) {
      const [e, s, r, l] = await cycle();
      toExit.push(e);
      toStarting.push(s);
      toRunning.push(r);
      toLine.push(l);
      forks.push(await forkFloor());
      respawns.push(await rawRespawnFloor());
    }
  } finally {
    await master.shutdown();
    scratch.remove();
  }

  const running = summarize(toRunning);
  const line = summarize(toLine);
  const fork = summarize(forks);
  const respawn = summarize(respawns);
  note(`  breakdown (p50 from the kill): exit seen ${fmtMs(summarize(toExit).p50)}, restart begun (starting) ${fmtMs(summarize(toStarting).p50)}, spawned (running) ${fmtMs(running.p50)}`);
  note(`  kill->running p50 ${fmtMs(running.p50)}, kill->first line ${fmtMs(line.p50)}; fork->IPC ${fmtMs(fork.p50)}; raw kill->exit->spawn->line ${fmtMs(respawn.p50)}`);
  const spread = (s: typeof running): string => `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`;
  return [
    { name: 'restart after kill -9 →running', value: fmtMs(running.p50), spread: spread(running), floor: fmtMs(fork.p50), ratio: fmtRatio(running.p50 / fork.p50), target: '≤ 1.15x fork', status: verdict(running.p50 / fork.p50 <= 1.15) },
    { name: 'restart after kill -9 →1st line', value: fmtMs(line.p50), spread: spread(line), floor: fmtMs(fork.p50), ratio: fmtRatio(line.p50 / fork.p50), target: '≤ 1.15x fork', status: verdict(line.p50 / fork.p50 <= 1.15) },
    { name: 'restart →1st line (vs raw kill→exit→spawn→line)', value: fmtMs(line.p50), spread: spread(line), floor: fmtMs(respawn.p50), ratio: fmtRatio(line.p50 / respawn.p50), target: 'report', status: 'info' },
  ];
}
