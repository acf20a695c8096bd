/**
 * Start latency per deployment, each beside its raw Node floor measured in the same loop
 * (interleaved sample by sample, so drift on the machine hits both sides alike).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Master } from '../src/index.js';
import type { ModuleExport } from '../src/index.js';
import { fixture, nextEvent, note, scratchDir, verdict, type Row } from './common.js';
import { forkFloor, spawnLineFloor, threadMessageFloor, threadOnlineFloor } from './floors.js';
import { fmtMs, fmtRatio, summarize, type Summary } from './stats.js';

const ECHO_MODULE = fixture('echo-module.mjs');

// ---- hsu -------------------------------------------------------------------------------------

async function timeStart(master: Master, id: string): Promise<number> {
  const t0 = performance.now();
  await master.startWorker(id);
  const ms = performance.now() - t0;
  await master.stopWorker(id);
  return ms;
}

async function inlineStarts(cycles: number): Promise<{ plugin: Summary; native: Summary }> {
  const scratch = scratchDir('inline');
  const master = new Master({ logDir: scratch.dir });
  const exported = ((await import(pathToFileURL(ECHO_MODULE).href)) as { default: ModuleExport }).default;
  master.registerNativeModuleFactory('echo', exported);
  master.addWorker({ id: 'plugin', type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE } });
  master.addWorker({ id: 'native', type: 'module', module: { module_type: 'native', module_name: 'echo' } });
  try {
    for (let i = 0; i < 100; i++) {
      await timeStart(master, 'plugin');
      await timeStart(master, 'native');
    }
    const plugin: number[] = [];
    const native: number[] = [];
    for (let i = 0; i < cycles; i++) {
      plugin.push(await timeStart(master, 'plugin'));
      native.push(await timeStart(master, 'native'));
    }
    return { plugin: summarize(plugin), native: summarize(native) };
  } finally {
    await master.shutdown();
    scratch.remove();
  }
}

async function threadStarts(samples: number): Promise<{ hsu: Summary; online: Summary; message: Summary }> {
  const scratch = scratchDir('thread');
  const master = new Master({ logDir: scratch.dir });
  master.addWorker({ id: 'thread', type: 'module', module: { module_type: 'plugin', module_path: ECHO_MODULE, isolation: 'thread' } });
  const hsu: number[] = [];
  const online: number[] = [];
  const message: number[] = [];
  try {
    for (let i = 0; i < 5; i++) {
      await timeStart(master, 'thread');
      await threadOnlineFloor();
      await threadMessageFloor();
    }
    for (let i = 0; i < samples; i++) {
      hsu.push(await timeStart(master, 'thread'));
      online.push(await threadOnlineFloor());
      message.push(await threadMessageFloor());
    }
  } finally {
    await master.shutdown();
    scratch.remove();
  }
  return { hsu: summarize(hsu), online: summarize(online), message: summarize(message) };
}

/**
 * Hosted starts with the machine's cgroups (the default) and with `cgroups: off`: joining a cgroup
 * before exec costs the kernel an RCU grace period on cgroup v1 (the write to cgroup.procs blocks
 * 10-25 ms on this VM under strace), which no runtime work can win back; the second figure is what
 * the runtime itself adds to a fork.
 */
async function hostedStarts(samples: number): Promise<{ hsu: Summary; noCgroups: Summary; fork: Summary }> {
  const scratch = scratchDir('hosted');
  const master = new Master({ logDir: scratch.dir });
  const plain = new Master({ logDir: scratch.dir, cgroups: 'off' });
  for (const m of [master, plain]) m.addWorker({ id: 'hosted', type: 'process', module: { module_type: 'plugin', module_path: ECHO_MODULE } });
  const hsu: number[] = [];
  const noCgroups: number[] = [];
  const forks: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      await timeStart(master, 'hosted');
      await timeStart(plain, 'hosted');
      await forkFloor();
    }
    for (let i = 0; i < samples; i++) {
      hsu.push(await timeStart(master, 'hosted'));
      noCgroups.push(await timeStart(plain, 'hosted'));
      forks.push(await forkFloor());
    }
  } finally {
    await Promise.all([master.shutdown(), plain.shutdown()]);
    scratch.remove();
  }
  return { hsu: summarize(hsu), noCgroups: summarize(noCgroups), fork: summarize(forks) };
}

async function processStarts(samples: number): Promise<{ running: Summary; ready: Summary; fork: Summary; spawnLine: Summary }> {
  const scratch = scratchDir('process');
  const master = new Master({ logDir: scratch.dir });
  master.addWorker({ id: 'proc', type: 'process', execution: { executable_path: process.execPath, args: [fixture('idle-child.mjs')] } });
  const running: number[] = [];
  const ready: number[] = [];
  const forks: number[] = [];
  const lines: number[] = [];
  const sample = async (): Promise<[number, number]> => {
    const firstLine = nextEvent(master, 'output', (e) => e.worker_id === 'proc' && e.stream === 'stdout');
    const t0 = performance.now();
    await master.startWorker('proc');
    const tRunning = performance.now() - t0;
    await firstLine;
    const tReady = performance.now() - t0;
    await master.stopWorker('proc');
    return [tRunning, tReady];
  };
  try {
    for (let i = 0; i < 3; i++) {
      await sample();
      await forkFloor();
      await spawnLineFloor();
    }
    for (let i = 0; i < samples; i++) {
      const [r, l] = await sample();
      running.push(r);
      ready.push(l);
      forks.push(await forkFloor());
      lines.push(await spawnLineFloor());
    }
  } finally {
    await master.shutdown();
    scratch.remove();
  }
  return { running: summarize(running), ready: summarize(ready), fork: summarize(forks), spawnLine: summarize(lines) };
}

// ---- rows (one job each: every job runs in a fresh process, see run.ts) ------------------------

function spread(s: Summary): string {
  return `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`;
}

export async function startInline(cycles = 500): Promise<Row[]> {
  note(`start: inline modules (${cycles} start/stop cycles each, after 100 warm-up cycles)...`);
  const inline = await inlineStarts(cycles);
  note(`  plugin p50 ${fmtMs(inline.plugin.p50)} (min ${fmtMs(inline.plugin.min)}, max ${fmtMs(inline.plugin.max)}); native p50 ${fmtMs(inline.native.p50)}`);
  return [
    { name: 'start: inline plugin module', value: fmtMs(inline.plugin.p50), spread: spread(inline.plugin), floor: 'none', ratio: '—', target: 'p50 ≤ 0.5 ms', status: verdict(inline.plugin.p50 <= 0.5) },
    { name: 'start: inline native module', value: fmtMs(inline.native.p50), spread: spread(inline.native), floor: 'none', ratio: '—', target: 'p50 ≤ 0.5 ms', status: verdict(inline.native.p50 <= 0.5) },
  ];
}

export async function startThread(samples = 60): Promise<Row[]> {
  note(`start: thread modules (${samples} samples, interleaved with floors)...`);
  const thread = await threadStarts(samples);
  const vsOnline = thread.hsu.p50 / thread.online.p50;
  const vsMessage = thread.hsu.p50 / thread.message.p50;
  note(`  hsu p50 ${fmtMs(thread.hsu.p50)}; new Worker->online ${fmtMs(thread.online.p50)}; ->first message ${fmtMs(thread.message.p50)}`);
  return [
    // The target is against the first message (what a module's start is); `online` is shown beside it.
    { name: 'start: thread module (vs Worker→online)', value: fmtMs(thread.hsu.p50), spread: spread(thread.hsu), floor: fmtMs(thread.online.p50), ratio: fmtRatio(vsOnline), target: 'report', status: 'info' },
    { name: 'start: thread module (vs Worker→1st message)', value: fmtMs(thread.hsu.p50), spread: spread(thread.hsu), floor: fmtMs(thread.message.p50), ratio: fmtRatio(vsMessage), target: '≤ 1.1x', status: verdict(vsMessage <= 1.1) },
  ];
}

export async function startHosted(samples = 40): Promise<Row[]> {
  note(`start: hosted process modules (${samples} samples, interleaved with the fork floor)...`);
  const hosted = await hostedStarts(samples);
  const ratio = hosted.hsu.p50 / hosted.fork.p50;
  const plainRatio = hosted.noCgroups.p50 / hosted.fork.p50;
  note(`  hsu p50 ${fmtMs(hosted.hsu.p50)} (cgroups off ${fmtMs(hosted.noCgroups.p50)}); fork->first IPC message ${fmtMs(hosted.fork.p50)}`);
  return [
    { name: 'start: hosted process module (in its cgroup)', value: fmtMs(hosted.hsu.p50), spread: spread(hosted.hsu), floor: fmtMs(hosted.fork.p50), ratio: fmtRatio(ratio), target: '≤ 1.1x', status: verdict(ratio <= 1.1) },
    { name: 'start: hosted process module, cgroups off', value: fmtMs(hosted.noCgroups.p50), spread: spread(hosted.noCgroups), floor: fmtMs(hosted.fork.p50), ratio: fmtRatio(plainRatio), target: '≤ 1.1x', status: verdict(plainRatio <= 1.1) },
  ];
}

export async function startProcess(samples = 30): Promise<Row[]> {
  note(`start: process workers (${samples} samples, interleaved with the fork and spawn floors)...`);
  const proc = await processStarts(samples);
  note(`  hsu ->running p50 ${fmtMs(proc.running.p50)}, ->first stdout line ${fmtMs(proc.ready.p50)}; fork->IPC ${fmtMs(proc.fork.p50)}; spawn->first line ${fmtMs(proc.spawnLine.p50)}`);
  return [
    { name: 'start: process worker →running (vs fork→IPC)', value: fmtMs(proc.running.p50), spread: spread(proc.running), floor: fmtMs(proc.fork.p50), ratio: fmtRatio(proc.running.p50 / proc.fork.p50), target: 'report', status: 'info' },
    { name: 'start: process worker →1st line (vs fork→IPC)', value: fmtMs(proc.ready.p50), spread: spread(proc.ready), floor: fmtMs(proc.fork.p50), ratio: fmtRatio(proc.ready.p50 / proc.fork.p50), target: 'report', status: 'info' },
    { name: 'start: process worker →1st line (vs spawn→line)', value: fmtMs(proc.ready.p50), spread: spread(proc.ready), floor: fmtMs(proc.spawnLine.p50), ratio: fmtRatio(proc.ready.p50 / proc.spawnLine.p50), target: 'report', status: 'info' },
  ];
}
