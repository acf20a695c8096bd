// `hsu monit` in a real terminal: tmux runs it, send-keys types, capture-pane reads the screen.
// It shows the demo workers, restarts the selected one (a new pid appears), follows its log,
// stops and starts another, and quits leaving the terminal as it was; the tmux server is ended.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../helpers/paths.js';
import { TMUX, startDemoMaster, tmuxMissing } from './helpers.js';

const T = { timeout: 90_000, skip: tmuxMissing() };

class Terminal {
  private readonly socket = `hsu-monit-test-${process.pid}`;

  constructor(command: string) {
    this.tmux('new-session', '-d', '-s', 'monit', '-x', '120', '-y', '36', command);
  }

  tmux(...args: string[]): string {
    return execFileSync(TMUX, ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'monit');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'monit', ...keys);
  }

  /** Reads the screen until `pick` finds what it looks for (a screen announces nothing: it is read). */
  async waitFor<T>(what: string, pick: (screen: string) => T | undefined, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      const found = pick(screen);
      if (found !== undefined) return found;
      if (Date.now() > deadline) assert.fail(`the screen never showed ${what}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  kill(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }

  /** tmux servers on this test's socket still alive (read from /proc). */
  servers(): number[] {
    return readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .filter((n) => {
        try {
          return readFileSync(`/proc/${n}/cmdline`, 'utf8').includes(this.socket);
        } catch {
          return false;
        }
      })
      .map(Number);
  }
}

const row = (screen: string, id: string): RegExpExecArray | null => new RegExp(`^([ >]) ${id}\\s+(\\w+)\\s+(\\w+)\\s+\\S+\\s+(\\S+)`, 'm').exec(screen);

void describe('hsu monit', () => {
  it('shows the workers live in a terminal and steers them with keys', T, async () => {
    const demo = await startDemoMaster();
    const bin = path.join(repoRoot, 'dist', 'src', 'cli', 'bin.js');
    const term = new Terminal(`${process.execPath} ${bin} monit --state-dir ${demo.stateDir}; echo "monit exited $?"; sleep 60`);
    try {
      const pid = await term.waitFor('the ticker running with a pid', (s) => {
        const r = row(s, 'ticker');
        return r?.[1] === '>' && r[3] === 'running' && /^\d+$/.test(r[4] ?? '') ? r[4] : undefined;
      });
      await term.waitFor('the thread and inline modules', (s) => (row(s, 'greeter')?.[2] === 'thread' && row(s, 'counter')?.[2] === 'inline' ? true : undefined));
      await term.waitFor("the ticker's log", (s) => (/^tick \d+\s*$/m.test(s) ? true : undefined));
      await term.waitFor('the CPU and memory of the selected worker', (s) => (/^\s+mem \S+ \d+(\.\d)?mb/m.test(s) ? true : undefined));

      term.keys('r');
      const newPid = await term.waitFor('a new pid after r', (s) => {
        const r = row(s, 'ticker');
        return r?.[3] === 'running' && /^\d+$/.test(r[4] ?? '') && r[4] !== pid ? r[4] : undefined;
      });
      await term.waitFor('the new instance in the log', (s) => (s.includes(`ticker ${newPid} started`) ? true : undefined));

      term.keys('Down');
      await term.waitFor('greeter selected', (s) => (row(s, 'greeter')?.[1] === '>' ? true : undefined));
      term.keys('s');
      await term.waitFor('greeter stopped', (s) => (row(s, 'greeter')?.[3] === 'stopped' ? true : undefined));
      term.keys('s');
      await term.waitFor('greeter running again', (s) => (row(s, 'greeter')?.[3] === 'running' ? true : undefined));

      term.keys('q');
      const after = await term.waitFor('monit to exit', (s) => (s.includes('monit exited') ? s : undefined));
      assert.match(after, /monit exited 0/);
      assert.equal(after.includes('hsu monit'), false, 'the alternate screen is left: the frame is gone');
    } finally {
      term.kill();
      assert.equal(await demo.stop(), 0);
    }
    assert.deepEqual(term.servers(), [], 'the tmux server of the test is gone');
  });
});
