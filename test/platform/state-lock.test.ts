// The state directory lock: two real processes creating a Master on the same fresh state_dir at
// the same moment get exactly one winner; the other is refused with HSU_ERR_STATE_DIR_IN_USE naming
// the winner's pid. A lock whose owner is dead is taken over; a lock naming a live process by pid
// and start time is respected even when that process is no master.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Master } from '../../src/index.js';
import { processIdentity } from '../../src/os/proc.js';
import { tempDir, throwsWithCode } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { childScript } from './support.js';

const T = { timeout: 60_000 };
const scratch = tempDir('state-lock');
after(() => scratch.remove());
const ROUNDS = 4;

interface Outcome {
  ok: boolean;
  pid: number;
  code?: string;
  owner?: number;
}

class Racer {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  readonly loaded: Promise<void>;
  readonly outcome: Promise<Outcome>;
  private stderr = '';

  constructor(stateDir: string) {
    this.child = spawn(process.execPath, [childScript('lock-racer.child'), stateDir], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    let out = '';
    let markLoaded!: () => void;
    this.loaded = new Promise((resolve) => (markLoaded = resolve));
    this.outcome = new Promise((resolve, reject) => {
      this.child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes('loaded\n')) markLoaded();
        const line = out.split('\n').find((l) => l.startsWith('REPORT '));
        if (line !== undefined) resolve(JSON.parse(line.slice('REPORT '.length)) as Outcome);
      });
      this.child.once('exit', (code) => reject(new Error(`racer exited (${String(code)}) without a report: ${this.stderr}`)));
    });
    this.outcome.catch(() => undefined);
  }

  go(): void {
    this.child.stdin.write('go\n');
  }

  async finish(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

void describe('two processes creating a Master on one fresh state_dir at the same moment', () => {
  it(`exactly one wins; the other gets HSU_ERR_STATE_DIR_IN_USE naming the winner (${ROUNDS} rounds)`, T, async () => {
    for (let round = 1; round <= ROUNDS; round++) {
      const stateDir = path.join(scratch.dir, `race-${round}`);
      const racers = [new Racer(stateDir), new Racer(stateDir)];
      try {
        await Promise.all(racers.map((r) => r.loaded));
        for (const racer of racers) racer.go(); // back to back: both are blocked on stdin, ready
        const outcomes = await Promise.all(racers.map((r) => r.outcome));
        const winners = outcomes.filter((o) => o.ok);
        const losers = outcomes.filter((o) => !o.ok);
        assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        assert.equal(losers.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        assert.equal(losers[0]?.code, 'HSU_ERR_STATE_DIR_IN_USE', `round ${round}: ${JSON.stringify(outcomes)}`);
        assert.equal(losers[0]?.owner, winners[0]?.pid, `round ${round}: the refusal names the winner`);
        const lock = JSON.parse(readFileSync(path.join(stateDir, 'master.lock'), 'utf8')) as { pid: number };
        assert.equal(lock.pid, winners[0]?.pid);
      } finally {
        await Promise.all(racers.map((r) => r.finish()));
      }
    }
  });
});

void describe('a lock file left in the state directory', () => {
  async function exitedIdentity(): Promise<{ pid: number; startTimeTicks: number }> {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 100000)'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    const identity = processIdentity(child.pid as number);
    assert.ok(identity !== undefined);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    return identity;
  }

  function leaveLock(name: string, owner: { pid: number; startTimeTicks: number }): string {
    const stateDir = path.join(scratch.dir, name);
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(path.join(stateDir, 'master.lock'), JSON.stringify(owner));
    return stateDir;
  }

  it('whose owner is dead is taken over', T, async () => {
    const stateDir = leaveLock('stale', await exitedIdentity());
    const master = new Master({ stateDir, logDir: path.join(scratch.dir, 'logs') });
    try {
      const lock = JSON.parse(readFileSync(path.join(stateDir, 'master.lock'), 'utf8')) as { pid: number };
      assert.equal(lock.pid, process.pid);
    } finally {
      await master.shutdown();
    }
  });

  it('of a live process that is no master (its pid and start time) is respected', T, async () => {
    const bystander = spawn(process.execPath, [fixture('forever.mjs')], { stdio: 'ignore' });
    await new Promise((resolve) => bystander.once('spawn', resolve));
    try {
      const identity = processIdentity(bystander.pid as number);
      assert.ok(identity !== undefined);
      const stateDir = leaveLock('live-owner', identity);
      const error = throwsWithCode(() => new Master({ stateDir, logDir: path.join(scratch.dir, 'logs') }), 'HSU_ERR_STATE_DIR_IN_USE');
      assert.equal(error.context.pid, bystander.pid);
      assert.deepEqual(JSON.parse(readFileSync(path.join(stateDir, 'master.lock'), 'utf8')), identity, 'the lock was left as it was');

      // The same pid with another start time is a recycled pid: not the owner, so the lock is stale.
      const recycled = leaveLock('recycled-owner', { pid: identity.pid, startTimeTicks: identity.startTimeTicks + 1 });
      const master = new Master({ stateDir: recycled, logDir: path.join(scratch.dir, 'logs') });
      await master.shutdown();
    } finally {
      bystander.kill('SIGKILL');
    }
  });
});
