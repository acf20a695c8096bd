/**
 * Append-to-handler latency at 10k messages/s: the appender in the same process, then in another
 * process; the floor is the raw inotify wake-up (another process writes a plain file, fs.watch
 * fires); plainjob at 1k/s with its default poll beside it (it cannot sustain 10k/s here).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, fstatSync, openSync, readSync, watch, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandWorker } from '../src/messaging/index.js';
import { note, scratchDir, verdict, type Row } from './common.js';
import { monotonicMs, paced } from './messaging-clock.js';
import { OrderPlaced, openBenchLog, PAYLOAD } from './messaging-common.js';
import { plainjobLatency } from './messaging-plainjob.js';
import { fmtMs, summarize, type Summary } from './stats.js';

const APPENDER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'messaging-appender.js');
const RATE = 10_000;
const DURATION_MS = 3000;
const WARMUP = 2000;

async function runAppender(file: string, mode: 'log' | 'raw'): Promise<number> {
  const child = fork(APPENDER, [file, String(RATE), String(DURATION_MS), mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = once(child, 'exit');
  child.send('go');
  const [report] = (await once(child, 'message')) as [{ sent: number }];
  await exited;
  return report.sent;
}

/** A command worker records now - sent_at for every message; `append` drives the messages. */
async function workerLatency(dir: string, name: string, append: (file: string, log: ReturnType<typeof openBenchLog>) => Promise<number>): Promise<Summary> {
  const log = openBenchLog(dir, name);
  const samples: number[] = [];
  const worker = new CommandWorker({ name: 'latency', state: null, log }).onCommand('order/placed', (command) => {
    samples.push(monotonicMs() - (command.payload.sent_at ?? 0));
  });
  await worker.start();
  try {
    const sent = await append(log.file, log);
    const deadline = performance.now() + 5000;
    while (samples.length < sent && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    if (samples.length < sent) throw new Error(`latency: only ${samples.length} of ${sent} messages handled`);
  } finally {
    note(`  ${name}: wake-ups ${JSON.stringify(log.wakeInfo.wakes)}`);
    await worker.stop();
    await log.close();
  }
  return summarize(samples.slice(WARMUP));
}

/** The floor: fs.watch on a directory, another process appending 8-byte timestamps to a file in it. */
async function inotifyFloor(dir: string): Promise<Summary> {
  const file = path.join(dir, 'raw-wake.bin');
  writeFileSync(file, '');
  const fd = openSync(file, 'r');
  const samples: number[] = [];
  let seen = 0;
  const watcher = watch(dir, (_event, name) => {
    if (name !== 'raw-wake.bin') return;
    const count = Math.floor(fstatSync(fd).size / 8);
    if (count <= seen) return;
    const buffer = Buffer.alloc((count - seen) * 8);
    readSync(fd, buffer, 0, buffer.length, seen * 8);
    const now = monotonicMs();
    // Every timestamp written since the last event is delivered by this one.
    for (let k = 0; k < count - seen; k++) samples.push(now - buffer.readDoubleLE(k * 8));
    seen = count;
  });
  try {
    await runAppender(file, 'raw');
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    watcher.close();
    closeSync(fd);
  }
  return summarize(samples.slice(WARMUP));
}

function row(name: string, s: Summary, floorName: string, floor: Summary | undefined, target: boolean): Row {
  return {
    name,
    value: fmtMs(s.p50),
    spread: `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`,
    floor: floor === undefined ? floorName : `${fmtMs(floor.p50)} / p99 ${fmtMs(floor.p99)} ${floorName}`,
    ratio: floor === undefined ? '—' : `${(s.p50 / floor.p50).toFixed(2)}x`,
    target: target ? 'p50 ≤ 2 ms, p99 ≤ 10 ms' : 'report',
    status: target ? verdict(s.p50 <= 2 && s.p99 <= 10) : 'info',
  };
}

export async function benchLatency(): Promise<Row[]> {
  note(`messaging latency: append-to-handler at ${RATE / 1000}k/s for ${DURATION_MS / 1000} s (same process, another process), raw inotify floor, plainjob at 1k/s...`);
  const scratch = scratchDir('messaging-latency');
  try {
    const floor = await inotifyFloor(scratch.dir);
    const local = await workerLatency(scratch.dir, 'local', (_file, log) => paced(RATE, DURATION_MS, () => {
      log.appendSync(OrderPlaced({ ...PAYLOAD, sent_at: monotonicMs() }));
    }));
    const remote = await workerLatency(scratch.dir, 'remote', (file) => runAppender(file, 'log'));
    const plainjob = summarize((await plainjobLatency(path.join(scratch.dir, 'plainjob.db'), 1000, DURATION_MS, monotonicMs)).slice(200));
    note(`  floor p50 ${fmtMs(floor.p50)} p99 ${fmtMs(floor.p99)}; same process p50 ${fmtMs(local.p50)} p99 ${fmtMs(local.p99)}; other process p50 ${fmtMs(remote.p50)} p99 ${fmtMs(remote.p99)}; plainjob p50 ${fmtMs(plainjob.p50)} p99 ${fmtMs(plainjob.p99)}`);
    return [
      row('messaging: append→handler at 10k/s, same process', local, 'raw inotify', floor, true),
      row('messaging: append→handler at 10k/s, other process', remote, 'raw inotify', floor, true),
      row('messaging: plainjob add→start at 1k/s (peer)', plainjob, `hsu ${fmtMs(remote.p50)} (other process)`, undefined, false),
    ];
  } finally {
    scratch.remove();
  }
}
