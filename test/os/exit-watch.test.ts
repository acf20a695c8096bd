// Exit detection of a process that is not our child: a daemon reparented away from us is watched,
// killed, and reported; a recycled pid is reported as such; a disposed watch never fires and leaves
// no timer behind.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { ExitPoller, identityOf, watchExit, type ExitInfo } from '../../src/os/index.js';
import { Children, readStatOf, running, sleep, waitFor } from './helpers.js';

const children = new Children();
after(() => children.killAll());

/** A sleep started by a shell that exits at once: the sleep is reparented, not our child. */
function orphanSleep(): number {
  const pid = Number(execFileSync('/bin/sh', ['-c', 'sleep 1000 </dev/null >/dev/null 2>&1 & echo $!'], { encoding: 'utf8' }).trim());
  children.track(pid);
  return pid;
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

void describe('watchExit', () => {
  void it('reports the exit of a process that is not our child', async () => {
    const pid = orphanSleep();
    await waitFor('reparenting', () => readStatOf(pid).ppid !== process.pid || undefined);
    assert.notEqual(readStatOf(pid).ppid, process.pid);
    const before = timers();
    const seen = new Promise<ExitInfo>((resolve) => watchExit(identityOf(pid)!, resolve));
    assert.equal(timers(), before + 1, 'one shared timer while something is watched');
    process.kill(pid, 'SIGKILL');
    const info = await seen;
    assert.equal(info.pid, pid);
    assert.ok(info.reason === 'gone' || info.reason === 'zombie', info.reason);
    assert.equal(running(pid), false);
    assert.equal(timers(), before, 'the timer stops with the last watch');
  });

  void it('reports a recycled pid as an exit, never as the same process', async () => {
    const pid = orphanSleep();
    const real = identityOf(pid)!;
    const info = await new Promise<ExitInfo>((resolve) => watchExit({ pid, startTimeTicks: real.startTimeTicks + 1 }, resolve));
    assert.equal(info.reason, 'recycled');
    process.kill(pid, 'SIGKILL');
  });

  void it('a disposed watch never fires; one timer serves many watches', async () => {
    const poller = new ExitPoller(10);
    const pids = [orphanSleep(), orphanSleep(), orphanSleep()];
    const fdsBefore = readdirSync('/proc/self/fd').length;
    const fired: number[] = [];
    const disposers = pids.map((pid) => poller.watch(identityOf(pid)!, (i) => fired.push(i.pid)));
    assert.equal(poller.size, 3);
    disposers[0]!();
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await waitFor('two exits', () => (fired.length === 2 ? true : undefined));
    await sleep(50); // five more poll intervals: the disposed one must stay silent
    assert.deepEqual(fired.sort(), pids.slice(1).sort());
    assert.equal(poller.size, 0);
    assert.equal(readdirSync('/proc/self/fd').length, fdsBefore, 'every stat descriptor closed');
    poller.close();
  });

  void it('soak: thousands of watch/dispose cycles hold descriptors and memory flat', () => {
    const pid = orphanSleep();
    const id = identityOf(pid)!;
    const poller = new ExitPoller(1_000);
    for (let i = 0; i < 500; i++) poller.watch(id, () => undefined)();
    const fds = readdirSync('/proc/self/fd').length;
    const heap = process.memoryUsage().heapUsed;
    for (let i = 0; i < 5_000; i++) poller.watch(id, () => undefined)();
    assert.equal(readdirSync('/proc/self/fd').length, fds);
    assert.ok(process.memoryUsage().heapUsed - heap < 16 * 2 ** 20);
    assert.equal(poller.size, 0);
    process.kill(pid, 'SIGKILL');
  });
});
