// Kept descriptors against the real kernel: a pread at offset 0 re-reads fresh /proc text, a
// reaped process's file fails and is closed (never read stale), the budget bounds what is held
// and reads past it still answer, fstat of a kept /proc/PID/fd counts descriptors, and close()
// leaves nothing open.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { defaultFileBudget, FileBudget, KeptFiles } from '../../src/os/kept-files.js';
import { parseStatFields } from '../../src/os/index.js';
import { Children, NODE, osFixture, sleep } from './helpers.js';

const children = new Children();
after(() => children.killAll());

const openFds = (): number => readdirSync('/proc/self/fd').length;

void describe('KeptFiles', () => {
  void it('re-reads a live process through one descriptor, then drops it once the process is reaped', async () => {
    const { child } = await children.ready(NODE, [osFixture('spin.mjs')]);
    const files = new KeptFiles(new FileBudget(8));
    const stat = `/proc/${child.pid!}/stat`;
    const first = parseStatFields(files.read(stat)!)!;
    const fds = openFds();
    let later = first;
    for (let i = 0; i < 100 && later.cpuTicks === first.cpuTicks; i++) {
      await sleep(20);
      later = parseStatFields(files.read(stat)!)!;
    }
    assert.ok(later.cpuTicks > first.cpuTicks, 'the spinner’s ticks grew through the same descriptor');
    assert.equal(openFds(), fds, 'no descriptor per read');
    assert.equal(files.size, 1);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    assert.equal(files.read(stat), undefined);
    assert.equal(files.size, 0, 'the dead descriptor was closed');
    files.close();
  });

  void it('holds no more than its budget; reads past it open, read and close', () => {
    const budget = new FileBudget(1);
    const a = new KeptFiles(budget);
    const b = new KeptFiles(budget);
    const before = openFds();
    assert.equal(a.read('/proc/self/stat')?.startsWith(`${process.pid} (`), true);
    assert.match(b.read('/proc/uptime') ?? '', /^\d+\.\d+ \d+\.\d+\n$/);
    assert.equal(budget.used, 1);
    assert.equal(b.size, 0, 'over budget: nothing kept');
    assert.equal(openFds(), before + 1);
    assert.equal(a.read('/proc/self/no-such-file'), undefined);
    a.close();
    b.close();
    assert.equal(budget.used, 0);
    assert.equal(openFds(), before);
  });

  void it('counts descriptors by fstat of a kept /proc/PID/fd', () => {
    const files = new KeptFiles(new FileBudget(4));
    const dir = `/proc/${process.pid}/fd`;
    const base = files.sizeOf(dir)!;
    const extra = [openSync('/proc/self/stat', 'r'), openSync('/proc/self/stat', 'r')];
    try {
      const kernelCounts = files.sizeOf(dir)!;
      if (kernelCounts > 0) assert.equal(kernelCounts - base, 2); // Linux 6.2+; older kernels report 0
    } finally {
      for (const fd of extra) closeSync(fd);
      files.close();
    }
    assert.equal(files.sizeOf('/proc/self/no-such-dir'), undefined);
  });

  void it('the default budget is a quarter of RLIMIT_NOFILE, at most 1024', () => {
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    assert.equal(defaultFileBudget(), soft === undefined ? 1024 : Math.min(1024, Math.floor(Number(soft) / 4)));
  });
});
