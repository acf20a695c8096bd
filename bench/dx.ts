/**
 * Edit-to-running in watch mode: from the write of a file to the first line its new code prints,
 * for `hsu run --watch` (the real binary) with an inline module and with a process worker, beside
 * the peer a developer would use instead, a bare `node --watch` of the same script. hsu waits out
 * its debounce (watch.delay, default 100 ms) before restarting; the `delay: 0ms` row shows the
 * mechanism without it. Samples interleave the three watchers, each edit a new version.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { note, repoRoot, scratchDir, sleep, type Row } from './common.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const HSU_BIN = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const WORKER_ENTRY = path.join(repoRoot, 'dist', 'src', 'worker', 'index.js');

const moduleSource = (version: number): string =>
  `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};\nexport default () => defineModule({ info: { name: 'm', version: '1.0.0' }, start(ctx) { ctx.logger.info('m ${version} started'); }, actions: {} });\n`;
const scriptSource = (name: string, version: number): string => `console.log('${name} ${version} started');\nsetInterval(() => {}, 1 << 30);\n`;

/** A watcher child whose output lines are offered to waiters. */
class Watched {
  private readonly child: ChildProcess;
  private readonly waiters = new Set<(line: string) => void>();

  constructor(args: readonly string[], cwd: string) {
    const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
    this.child = spawn(process.execPath, [...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', (line) => { for (const wake of [...this.waiters]) wake(line); });
    }
  }

  line(text: string, timeoutMs = 20_000): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no line with ${JSON.stringify(text)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (line: string): void => {
        if (!line.includes(text)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(performance.now());
      };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((resolve) => this.child.once('close', resolve));
    this.child.kill('SIGTERM');
    await gone;
  }
}

export async function benchDx(samples = 15): Promise<Row[]> {
  note(`dx: edit -> new code running, hsu run --watch (inline module, process worker) vs node --watch (${samples} samples each)...`);
  const scratch = scratchDir('dx');
  const file = (name: string): string => path.join(scratch.dir, name);
  writeFileSync(file('m.mjs'), moduleSource(0));
  writeFileSync(file('m0.mjs'), moduleSource(0).replace(/'m /g, "'m0 "));
  writeFileSync(file('p.mjs'), scriptSource('p', 0));
  writeFileSync(file('n.mjs'), scriptSource('n', 0));
  writeFileSync(file('hsu.yaml'), `master:\n  log_dir: logs\nworkers:\n  - id: m\n    type: module\n    module: { module_type: plugin, module_path: m.mjs, isolation: inline }\n  - id: m0\n    type: module\n    module: { module_type: plugin, module_path: m0.mjs, isolation: inline }\n    watch: { delay: 0ms }\n  - id: p\n    type: process\n    execution: { executable_path: node, args: [p.mjs] }\n`);
  const hsu = new Watched([HSU_BIN, 'run', '--watch', '--json', 'hsu.yaml'], scratch.dir);
  const node = new Watched(['--watch', 'n.mjs'], scratch.dir);
  const times = { m: [] as number[], m0: [] as number[], p: [] as number[], n: [] as number[] };
  try {
    await Promise.all([hsu.line('master running'), node.line('n 0 started')]);
    const edit = async (watcher: Watched, name: string, source: string, marker: string): Promise<number> => {
      const seen = watcher.line(marker);
      const t0 = performance.now();
      writeFileSync(file(name), source);
      const took = (await seen) - t0;
      await sleep(150); // let the watchers settle before the next edit
      return took;
    };
    for (let i = 1; i <= samples + 2; i++) {
      const m = await edit(hsu, 'm.mjs', moduleSource(i), `m ${i} started`);
      const m0 = await edit(hsu, 'm0.mjs', moduleSource(i).replace(/'m /g, "'m0 "), `m0 ${i} started`);
      const p = await edit(hsu, 'p.mjs', scriptSource('p', i), `p ${i} started`);
      const n = await edit(node, 'n.mjs', scriptSource('n', i), `n ${i} started`);
      if (i <= 2) continue; // warm-up
      times.m.push(m);
      times.m0.push(m0);
      times.p.push(p);
      times.n.push(n);
    }
  } finally {
    await hsu.stop();
    await node.stop();
    scratch.remove();
  }
  const [m, m0, p, n] = [summarize(times.m), summarize(times.m0), summarize(times.p), summarize(times.n)];
  note(`  p50: inline ${fmtMs(m.p50)} (delay 0: ${fmtMs(m0.p50)}), process ${fmtMs(p.p50)}, node --watch ${fmtMs(n.p50)}`);
  const spread = (s: typeof m): string => `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`;
  const row = (name: string, s: typeof m): Row => ({ name, value: fmtMs(s.p50), spread: spread(s), floor: fmtMs(n.p50), ratio: fmtRatio(s.p50 / n.p50), target: 'report', status: 'info' });
  return [
    row('watch: edit → inline module running (hsu, delay 100ms)', m),
    row('watch: edit → inline module running (hsu, delay 0ms)', m0),
    row('watch: edit → process worker running (hsu, delay 100ms)', p),
    { name: 'watch: edit → script running (node --watch, the peer)', value: fmtMs(n.p50), spread: spread(n), floor: fmtMs(n.p50), ratio: fmtRatio(1), target: 'report', status: 'info' },
  ];
}
