// Output accounting, end to end through a library Master with a real logger: a child writing 300k
// lines fast is copied to the master log within its budget, diagnostics count every line as copied
// or suppressed, and the per-worker file gets every byte. When the log directory fills up (a 1 MiB
// tmpfs), the worker is not killed by its failed log writer, what could not be written is counted
// (within split's bounded loss), the master log says so once, and the master carries on. The counts outlive the files being closed.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { LogCapture } from '../conformance/harness.js';
import { Master } from '../../src/index.js';
import { pluginWorker, tempDir, waitForState } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { waitFor } from './support.js';

const T = { timeout: 90_000 };
const scratch = tempDir('output');
after(() => scratch.remove());

interface StreamStats {
  bytes: number;
  lines: number;
  copied_lines: number;
  suppressed_lines: number;
  bytes_dropped: number;
  error: string | null;
  file: string;
}

function stdoutStats(master: Master, id: string): StreamStats {
  return (master.getWorkerStateWithDiagnostics(id).details as unknown as { output: { stdout: StreamStats } }).output.stdout;
}

function records(logs: LogCapture): Record<string, unknown>[] {
  return logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
}

void describe('a child writing 300k lines as fast as it can', () => {
  it('diagnostics count every line (copied + suppressed = lines), the master log agrees, the file has every byte', T, async () => {
    const total = 300_000;
    let expectedBytes = 0;
    for (let n = 1; n <= total; n++) expectedBytes += `line ${n}\n`.length;
    const logs = new LogCapture();
    const logDir = path.join(scratch.dir, 'lines-logs');
    const master = new Master({ logger: logs.logger, logDir, shutdownTimeoutMs: 10_000 });
    try {
      master.addWorker({ id: 'lines', type: 'process', restart: { policy: 'never' }, execution: { executable_path: process.execPath, args: [fixture('lines.mjs'), String(total)] } });
      await master.startWorker('lines');
      await waitForState(master, 'lines', 'stopped', 60_000);
      const stats = await waitFor('every byte to reach the file', () => {
        const s = stdoutStats(master, 'lines');
        return s.bytes === expectedBytes ? s : undefined;
      });
      assert.equal(stats.lines, total);
      assert.equal(stats.copied_lines + stats.suppressed_lines, stats.lines, JSON.stringify(stats));
      assert.ok(stats.suppressed_lines > 0, 'the premise: a flood this size is over the budget');
      assert.equal(stats.bytes_dropped, 0);
      assert.equal(statSync(stats.file).size, expectedBytes);

      const all = records(logs);
      const copied = all.filter((r) => r.worker === 'lines' && r.stream === 'stdout' && r.suppressed_lines === undefined).length;
      const suppressed = all.filter((r) => r.worker === 'lines' && typeof r.suppressed_lines === 'number').reduce((sum, r) => sum + (r.suppressed_lines as number), 0);
      assert.deepEqual({ copied, suppressed }, { copied: stats.copied_lines, suppressed: stats.suppressed_lines }, 'the master log reports what diagnostics count');
    } finally {
      await master.shutdown();
    }
  });
});

void describe('output counts after the worker log files are closed', () => {
  it('diagnostics after shutdown() still show the bytes written, not zero', T, async () => {
    const total = 1000;
    let expectedBytes = 0;
    for (let n = 1; n <= total; n++) expectedBytes += `line ${n}\n`.length;
    const master = new Master({ logDir: path.join(scratch.dir, 'closed-logs') });
    master.addWorker({ id: 'few', type: 'process', restart: { policy: 'never' }, execution: { executable_path: process.execPath, args: [fixture('lines.mjs'), String(total)] } });
    await master.startWorker('few');
    await waitForState(master, 'few', 'stopped');
    await waitFor('every byte to reach the file', () => stdoutStats(master, 'few').bytes === expectedBytes);
    await master.shutdown();
    const after = stdoutStats(master, 'few');
    assert.deepEqual({ bytes: after.bytes, lines: after.lines }, { bytes: expectedBytes, lines: total }, 'closing the files lost the byte counts');
  });
});

function mountTinyTmpfs(dir: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { encoding: 'utf8' });
  return result.status === 0 ? undefined : `mount failed: ${result.stderr.trim() || String(result.error)}`;
}

void describe('a log directory that fills up', () => {
  const logDir = path.join(scratch.dir, 'tiny');
  mkdirSync(logDir);
  const refused = mountTinyTmpfs(logDir);
  after(() => {
    if (refused !== undefined) return;
    const result = spawnSync('umount', [logDir], { encoding: 'utf8' });
    if (result.status !== 0) spawnSync('umount', ['-l', logDir]);
  });

  it('counts and reports every byte it could not write, warns once, and the master keeps running', { ...T, skip: refused === undefined ? false : `needs a 1 MiB tmpfs (${refused})` }, async () => {
    const logs = new LogCapture();
    const master = new Master({ logger: logs.logger, logDir, shutdownTimeoutMs: 10_000 });
    const size = 5 * 1024 * 1024;
    try {
      master.addWorker(pluginWorker('bystander', 'ok.mjs'));
      master.addWorker({ id: 'flood', type: 'process', restart: { policy: 'never' }, execution: { executable_path: process.execPath, args: [fixture('flood.mjs'), '5'] } });
      await master.start();
      await waitForState(master, 'flood', 'stopped', 60_000);
      // split writes until ENOSPC ends it; the master takes the stream over (the worker gets no
      // SIGPIPE) and counts what the disk refuses. What split had read but not written when it
      // failed is lost: at most its read buffer (128 KiB in coreutils) plus the socket's queue.
      const lossBound = 512 * 1024;
      const stats = await waitFor('every byte to be written, counted as dropped, or in the bounded split loss', () => {
        const s = stdoutStats(master, 'flood');
        return s.bytes + s.bytes_dropped >= size - lossBound ? s : undefined;
      });
      assert.ok(stats.bytes + stats.bytes_dropped <= size, JSON.stringify(stats));
      assert.ok(stats.bytes_dropped > 0, JSON.stringify(stats));
      assert.ok(stats.error !== null && stats.error.length > 0, 'diagnostics name the file error');
      assert.ok(stats.bytes <= 1024 * 1024);
      const lineBytes = size / (5 * 10_486);
      assert.ok(stats.lines <= 5 * 10_486 && stats.lines >= 5 * 10_486 - Math.ceil(lossBound / lineBytes), `lines are still counted from the stream: ${stats.lines}`);
      assert.equal(master.getWorkerStateWithDiagnostics('flood').last_error, null, 'the worker ended cleanly: a full log disk did not kill it');
      const failures = records(logs).filter((r) => r.worker === 'flood' && r.file === stats.file && (r.level as number) >= 40 && typeof r.err === 'object');
      assert.equal(failures.length, 1, `the master log warns once about the failed file: ${JSON.stringify(failures)}`);
      assert.equal(master.getWorkerState('bystander'), 'running');
      assert.equal(await master.call('bystander', 'instance'), 1);
    } finally {
      const report = await master.shutdown();
      assert.equal(report.forced, false);
    }
  });
});
