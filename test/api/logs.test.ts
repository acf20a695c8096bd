// Log tails and the follower on real files: backwards reads, rotation by rename (a new inode),
// truncation in place, partial lines, and no file left open after stop().
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { LogFollower } from '../../src/api/logs/follow.js';
import { tailFile, tailLog } from '../../src/api/logs/tail.js';
import { openLogFile } from '../../src/api/logs/files.js';
import { openFilesUnder, tempDir } from '../helpers/master-helpers.js';
import { eventually } from './helpers.js';

const T = { timeout: 20_000 };
const scratch = tempDir('api-logs');
after(() => scratch.remove());
let files = 0;
const newFile = (content = ''): string => {
  const file = path.join(scratch.dir, `f${++files}.log`);
  writeFileSync(file, content);
  return file;
};

void describe('log tail', () => {
  it('returns the last N whole lines and says when older ones exist', T, async () => {
    const file = newFile(Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n') + '\n');
    const tail = await tailFile(file, 3);
    assert.deepEqual(tail.lines, ['line 8', 'line 9', 'line 10']);
    assert.equal(tail.truncated, true);
    assert.equal(tail.exists, true);
    const all = await tailFile(file, 100);
    assert.equal(all.lines.length, 10);
    assert.equal(all.truncated, false);
    assert.deepEqual((await tailFile(file, 0)).lines, []);
  });

  it('reads backwards in chunks: a big file costs the size of the answer; a last line without newline counts', T, async () => {
    const file = newFile();
    const line = 'x'.repeat(99);
    appendFileSync(file, `${line}\n`.repeat(200_000)); // 20 MB
    appendFileSync(file, 'unterminated');
    const tail = await tailFile(file, 2);
    assert.deepEqual(tail.lines, [line, 'unterminated']);
    assert.equal(tail.truncated, true);
    assert.equal(tail.size, 200_000 * 100 + 'unterminated'.length);
    const capped = await tailFile(file, 10_000);
    assert.equal(capped.lines.length, 10_000);
  });

  it('a missing file is empty, not an error; a FIFO or a symlink is refused without blocking', T, async () => {
    assert.deepEqual(await tailFile(path.join(scratch.dir, 'missing.log'), 5), { file: path.join(scratch.dir, 'missing.log'), exists: false, size: 0, ino: 0, lines: [], truncated: false });
    const fifo = path.join(scratch.dir, 'fifo.log');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(openLogFile(fifo), (error: { code?: string }) => error.code === 'HSU_ERR_API_LOG_REFUSED');
  });
});

void describe('log tail across rotation', () => {
  it('continues into the older segments (plain and gzipped) the master\'s link scheme names, newest first', T, async () => {
    const dir = path.join(scratch.dir, 'segments');
    mkdirSync(dir);
    const lines = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join('');
    writeFileSync(path.join(dir, 'api.out.000000.log.gz'), gzipSync(lines(1, 4)));
    writeFileSync(path.join(dir, 'api.out.000001.log'), lines(5, 8));
    writeFileSync(path.join(dir, 'api.out.000002.log'), lines(9, 10));
    writeFileSync(path.join(dir, 'other.out.000001.log'), 'not this stream\n');
    symlinkSync('api.out.000002.log', path.join(dir, 'api.out.log'));
    const link = path.join(dir, 'api.out.log');
    assert.deepEqual((await tailLog(link, 2)).lines, ['line 9', 'line 10']);
    const five = await tailLog(link, 5);
    assert.deepEqual([five.lines, five.truncated], [['line 6', 'line 7', 'line 8', 'line 9', 'line 10'], true]);
    const all = await tailLog(link, 100);
    assert.deepEqual([all.lines, all.truncated], [Array.from({ length: 10 }, (_, i) => `line ${i + 1}`), false]);
    assert.equal(all.file, link, 'a follower continues in the newest segment');
    assert.equal(all.size, lines(9, 10).length);
    const plain = newFile(lines(1, 3));
    assert.deepEqual((await tailLog(plain, 10)).lines, ['line 1', 'line 2', 'line 3'], 'a plain file (no rotation) is the whole answer');
  });
});

void describe('log follower', () => {
  it('delivers appended lines, joins partial lines, follows a rotation to the new file and a truncation', T, async () => {
    const file = newFile('old 1\n');
    const seen: string[] = [];
    const start = await tailFile(file, 0);
    const follower = new LogFollower(file, { position: start.size, ino: start.ino }, (lines) => seen.push(...lines), { intervalMs: 20 });
    follower.start();
    try {
      appendFileSync(file, 'new 1\nhal');
      await eventually('new 1', () => (seen.includes('new 1') ? true : undefined));
      appendFileSync(file, 'f line\n');
      await eventually('the joined line', () => (seen.includes('half line') ? true : undefined));
      // logrotate's default: rename, then the writer opens a fresh file under the old name.
      appendFileSync(file, 'last before rotation\n');
      renameSync(file, `${file}.1`);
      writeFileSync(file, 'first after rotation\n');
      await eventually('the new file', () => (seen.includes('first after rotation') ? true : undefined));
      assert.ok(seen.indexOf('last before rotation') < seen.indexOf('first after rotation'), `old file read to its end first: ${seen.join(' | ')}`);
      // copytruncate: the same inode, emptied.
      truncateSync(file, 0);
      await new Promise((resolve) => setTimeout(resolve, 60));
      appendFileSync(file, 'after truncate\n');
      await eventually('after truncate', () => (seen.includes('after truncate') ? true : undefined));
      assert.deepEqual(seen, ['new 1', 'half line', 'last before rotation', 'first after rotation', 'after truncate']);
    } finally {
      await follower.stop();
    }
    assert.deepEqual(openFilesUnder(scratch.dir), [], 'stop() closed the file');
  });

  it('waits for a file that does not exist yet, then reads it from the start', T, async () => {
    const file = path.join(scratch.dir, 'later.log');
    const seen: string[] = [];
    const follower = new LogFollower(file, { position: 0, ino: 0 }, (lines) => seen.push(...lines), { intervalMs: 20 });
    follower.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      writeFileSync(file, 'hello\n');
      await eventually('hello', () => (seen.includes('hello') ? true : undefined));
    } finally {
      await follower.stop();
    }
    assert.deepEqual(openFilesUnder(scratch.dir), []);
  });

  it('a flood is read in bounded steps and every line arrives once, in order', T, async () => {
    const file = newFile();
    const seen: string[] = [];
    const follower = new LogFollower(file, { position: 0, ino: 0 }, (lines) => seen.push(...lines), { intervalMs: 20 });
    follower.start();
    try {
      const lines = Array.from({ length: 50_000 }, (_, i) => `flood ${i} ${'y'.repeat(40)}`); // ~2.5 MB
      appendFileSync(file, `${lines.join('\n')}\n`);
      await eventually('every line', () => (seen.length >= lines.length ? true : undefined));
      assert.deepEqual(seen, lines);
    } finally {
      await follower.stop();
    }
  });
});
