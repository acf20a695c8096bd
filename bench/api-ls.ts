/**
 * `hsu ls` wall time (spawn to exit) against its floor, `node -e 0` (the same Node starting and
 * doing nothing), against the floor of any client (a bare Node script sending one request on the
 * same socket), and against `pm2 ls` in the same run, each side with 10 idle process workers.
 * Samples interleave so drift on the machine hits every side alike. PM2 runs with PM2_HOME in a
 * temp dir, and its daemon is killed at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fixture, note, repoRoot, scratchDir, verdict, type Row } from './common.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const PROCESSES = 10;
const SAMPLES = 30;
const HSU = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
const PM2 = path.join(repoRoot, 'node_modules', 'pm2', 'bin', 'pm2');
const TARGET_RATIO = 1.3;

function wall(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

function run(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): void {
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`${args.join(' ')} failed: ${result.stderr}${result.stdout}`);
}

export async function benchHsuLs(): Promise<Row[]> {
  note(`api: \`hsu ls\` wall time with ${PROCESSES} workers, against \`node -e 0\` and \`pm2 ls\` (${SAMPLES} interleaved samples each)...`);
  const project = scratchDir('api-ls');
  const pm2Home = scratchDir('api-ls-pm2');
  const env = { ...process.env, PM2_HOME: pm2Home.dir, PM2_DISABLE_VERSION_CHECK: 'true', NO_COLOR: '1' };
  const idle = fixture('idle-child.mjs');
  writeFileSync(
    path.join(project.dir, 'hsu.yaml'),
    `workers:\n${Array.from({ length: PROCESSES }, (_, i) => `  - { id: w${i}, type: process, execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(idle)}] } }\n`).join('')}`,
  );
  writeFileSync(
    path.join(pm2Home.dir, 'ecosystem.config.cjs'),
    `module.exports = { apps: ${JSON.stringify(Array.from({ length: PROCESSES }, (_, i) => ({ name: `w${i}`, script: idle, interpreter: process.execPath })))} };\n`,
  );
  try {
    run([HSU, 'run', '-d', 'hsu.yaml'], project.dir, env);
    run([PM2, 'start', path.join(pm2Home.dir, 'ecosystem.config.cjs')], pm2Home.dir, env);
    const raw = [fixture('api-raw-request.mjs'), path.join(project.dir, '.hsu', 'hsu.sock')];
    const node: number[] = [];
    const socket: number[] = [];
    const hsu: number[] = [];
    const pm2: number[] = [];
    for (let i = 0; i < 3; i++) {
      await wall(['-e', '0'], project.dir, env);
      await wall(raw, project.dir, env);
      await wall([HSU, 'ls'], project.dir, env);
      await wall([PM2, 'ls'], pm2Home.dir, env);
    }
    for (let i = 0; i < SAMPLES; i++) {
      node.push(await wall(['-e', '0'], project.dir, env));
      socket.push(await wall(raw, project.dir, env));
      hsu.push(await wall([HSU, 'ls'], project.dir, env));
      pm2.push(await wall([PM2, 'ls'], pm2Home.dir, env));
    }
    const n = summarize(node);
    const r = summarize(socket);
    const h = summarize(hsu);
    const p = summarize(pm2);
    note(`  node -e 0 ${fmtMs(n.p50)}; bare socket request ${fmtMs(r.p50)}; hsu ls ${fmtMs(h.p50)}; pm2 ls ${fmtMs(p.p50)}`);
    return [
      { name: 'bare unix-socket request (floor of any client)', value: fmtMs(r.p50), spread: `${fmtMs(r.p90)} / ${fmtMs(r.p99)}`, floor: `${fmtMs(n.p50)} node -e 0`, ratio: fmtRatio(r.p50 / n.p50), target: 'report', status: 'info' },
      { name: `hsu ls against the bare socket request`, value: fmtMs(h.p50), spread: '', floor: `${fmtMs(r.p50)} bare request`, ratio: fmtRatio(h.p50 / r.p50), target: 'report', status: 'info' },
      { name: `hsu ls, ${PROCESSES} workers (wall)`, value: fmtMs(h.p50), spread: `${fmtMs(h.p90)} / ${fmtMs(h.p99)}`, floor: `${fmtMs(n.p50)} node -e 0`, ratio: fmtRatio(h.p50 / n.p50), target: `≤ ${TARGET_RATIO}x floor`, status: verdict(h.p50 / n.p50 <= TARGET_RATIO) },
      { name: `pm2 ls, ${PROCESSES} processes (wall)`, value: fmtMs(p.p50), spread: `${fmtMs(p.p90)} / ${fmtMs(p.p99)}`, floor: `${fmtMs(n.p50)} node -e 0`, ratio: fmtRatio(p.p50 / n.p50), target: 'report', status: 'info' },
      { name: 'hsu ls against pm2 ls', value: fmtMs(h.p50), spread: '', floor: `${fmtMs(p.p50)} pm2 ls`, ratio: fmtRatio(h.p50 / p.p50), target: 'report', status: 'info' },
    ];
  } finally {
    spawnSync(process.execPath, [HSU, 'shutdown', '--force'], { cwd: project.dir, env, timeout: 60_000 });
    spawnSync(process.execPath, [PM2, 'kill'], { cwd: pm2Home.dir, env, timeout: 60_000 });
    project.remove();
    pm2Home.remove();
  }
}
