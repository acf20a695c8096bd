// The README's first line, `npm start`, as a user runs it: the demo master (dist/examples/demo.js)
// brings up every worker of examples/hsu.yaml (native, replicated plugin, command worker in a
// thread, integrated HTTP service, plain process), the CLI sees them all running, orders flow through
// the durable log, and one SIGINT ends it with exit 0 and no process left behind.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { main, type CliIo } from '../../src/cli/main.js';
import { repoRoot } from '../helpers/paths.js';

const T = { timeout: 60_000 };
const STATE = path.join(repoRoot, 'examples', '.hsu');

async function ls(): Promise<{ id: string; state: string; health: { status: string }; pid: number | null }[] | undefined> {
  let out = '';
  const io: CliIo = { out: (s) => void (out += s), err: () => undefined, style: { tty: false, color: false } };
  if ((await main(['ls', '--json', '--state-dir', STATE], io)) !== 0) return undefined;
  return (JSON.parse(out) as { workers: { id: string; state: string; health: { status: string }; pid: number | null }[] }).workers;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

void describe('npm start (the demo master)', () => {
  it('runs every kind of worker, answers the CLI, handles orders, and stops cleanly on SIGINT', T, async () => {
    rmSync(path.join(STATE, 'orders.db'), { force: true });
    const demo = spawn(process.execPath, [path.join(repoRoot, 'dist', 'examples', 'demo.js')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    demo.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 40_000;
      let workers: Awaited<ReturnType<typeof ls>>;
      for (;;) {
        workers = existsSync(path.join(STATE, 'hsu.sock')) ? await ls().catch(() => undefined) : undefined;
        const ready = workers !== undefined && workers.length === 6 && workers.every((w) => w.state === 'running') && workers.find((w) => w.id === 'web')?.health.status === 'healthy';
        if ((ready && /order placed/.test(output)) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.deepEqual(workers?.map((w) => [w.id, w.state]), [
        ['clock', 'running'], ['greeter#0', 'running'], ['greeter#1', 'running'], ['orders', 'running'], ['web', 'running'], ['ticker', 'running'],
      ], output.slice(-3000));
      assert.match(output, /"reply":"Hello, operator!"/, 'the greeter service answers');
      assert.match(output, /order placed/, 'the command worker handled an appended order');
      const pids = workers!.map((w) => w.pid).filter((pid): pid is number => pid !== null);
      assert.equal(pids.length, 2, 'web and ticker have pids');
      demo.kill('SIGINT');
      assert.equal(await exited, 0, output.slice(-2000));
      assert.match(output, /shutdown complete/);
      assert.deepEqual(pids.filter(alive), [], 'no worker process outlives the master');
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
    }
  });
});
