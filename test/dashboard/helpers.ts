// Shared by the dashboard tests: a real `hsu run` with the demo's three kinds of worker, the
// browser (Debian's chromium through playwright-core, never a downloaded one), and checks that
// nothing a test started (browser, tmux, masters) outlives it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HsuRun } from '../helpers/hsu-run.js';
import { tempDir } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';

export const CHROMIUM = '/usr/bin/chromium';
export const TMUX = '/usr/bin/tmux';

export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `Debian's chromium is not installed (${CHROMIUM}): apt-get install chromium`;
}

export function tmuxMissing(): string | undefined {
  return existsSync(TMUX) ? undefined : `tmux is not installed (${TMUX}): apt-get install tmux`;
}

/** Where tests leave what a person should look at (screenshots). */
export function testOutput(name: string): string {
  const dir = path.join(repoRoot, 'dist', 'test-output', 'dashboard');
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

export interface DemoMaster {
  readonly run: HsuRun;
  readonly dir: string;
  readonly stateDir: string;
  readonly token: string;
  /** The API's URL when it listens on TCP. */
  readonly url: string | null;
  stop(): Promise<number | null>;
}

/** `hsu run` of a ticker process (a line every 200 ms), a thread module and an inline module. */
export async function startDemoMaster(listen?: string): Promise<DemoMaster> {
  const { dir, remove } = tempDir('dashboard');
  const examples = path.join(repoRoot, 'examples');
  const api = listen === undefined ? '' : `  api:\n    listen: ${listen}\n`;
  writeFileSync(
    path.join(dir, 'hsu.yaml'),
    `master:\n  log_dir: logs\n  state_dir: state\n  shutdown_timeout: 10s\n${api}workers:\n` +
      `  - id: ticker\n    type: process\n    execution:\n      executable_path: ${process.execPath}\n      args: [${path.join(examples, 'workers', 'ticker.mjs')}, "200"]\n    restart: { policy: always }\n` +
      `  - id: greeter\n    type: module\n    module: { module_type: plugin, module_path: ${path.join(examples, 'modules', 'greeter.mjs')}, isolation: thread }\n` +
      `  - id: counter\n    type: module\n    module: { module_type: plugin, module_path: ${path.join(examples, 'modules', 'counter.mjs')} }\n`,
  );
  const run = new HsuRun(path.join(dir, 'hsu.yaml'), dir);
  try {
    await run.waitFor('the master running', (l) => l.msg === 'master running');
  } catch (error) {
    run.kill();
    remove();
    throw error;
  }
  const stateDir = path.join(dir, 'state');
  const endpoint = JSON.parse(readFileSync(path.join(stateDir, 'api.json'), 'utf8')) as { url: string | null };
  return {
    run,
    dir,
    stateDir,
    token: readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim(),
    url: endpoint.url,
    stop: async () => {
      run.signal('SIGTERM');
      const code = await run.exitCode();
      remove();
      return code;
    },
  };
}

/** Pids of this process's descendants whose command line matches `pattern` (read from /proc). */
export function descendants(pattern: RegExp): number[] {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      commands.set(Number(name), readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' '));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid: number): boolean => {
    for (let p = parents.get(pid); p !== undefined && p > 1; p = parents.get(p)) if (p === process.pid) return true;
    return false;
  };
  return [...commands].filter(([pid, cmd]) => pattern.test(cmd) && mine(pid)).map(([pid]) => pid);
}

/** tmux sessions whose name starts with `prefix`. */
export function tmuxSessions(prefix: string): string[] {
  try {
    return execFileSync(TMUX, ['list-sessions', '-F', '#{session_name}'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .split('\n')
      .filter((s) => s.startsWith(prefix));
  } catch {
    return []; // no server running: no sessions
  }
}
