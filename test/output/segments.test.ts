// LogSegments on real files: numbering from disk, the symlink, retention, gzip (gunzipped and
// compared), what a crash mid-compression leaves, and a log file from before segments.
// describe/it return promises the runner tracks itself; `void` says so to the floating-promise rule.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { isHsuError } from '../../src/errors.js';
import { LogSegments, listSegments, logsSchema, resolveLogSettings } from '../../src/runtimes/output/index.js';
import { Scratch, readSegments, silent, waitFor } from './helpers.js';

const scratch = new Scratch();
after(() => scratch.remove());

function write(dir: string, name: string, text: string): void {
  writeFileSync(path.join(dir, name), text);
}

void describe('LogSegments', () => {
  void it('numbers from what is on disk, never reusing one, and points the symlink at the newest', () => {
    const dir = scratch.dir('numbers');
    write(dir, 'w.out.000003.log', 'three\n');
    write(dir, 'w.out.000007.log.gz', '');
    write(dir, 'other.out.000042.log', 'not ours\n');
    const segments = new LogSegments({ dir, key: 'w.out' });
    assert.equal(segments.newest, 7);
    const n = segments.allocate();
    assert.equal(n, 8);
    segments.begin(n);
    assert.equal(readlinkSync(path.join(dir, 'w.out.log')), 'w.out.000008.log');
    assert.equal(segments.allocate(), 9, 'a number handed out is not handed out again');
    segments.noteSegment(5); // an older one appearing does not move the link
    assert.equal(readlinkSync(path.join(dir, 'w.out.log')), 'w.out.000008.log');
    assert.equal(new LogSegments({ dir, key: 'w.out' }).newest, 8, 'a new instance reads the same numbering back');
  });

  void it('keeps `keep` segments, the newest included, and never touches one still in use', async () => {
    const dir = scratch.dir('keep');
    const segments = new LogSegments({ dir, key: 'w.out', keep: 2 });
    for (let i = 0; i < 5; i++) {
      const n = segments.allocate();
      segments.begin(n);
      write(dir, `w.out.00000${n}.log`, `segment ${n}\n`);
    }
    segments.release(1); // segment 1 and later are still being read
    assert.deepEqual(
      readSegments(dir, 'w.out').map((s) => s.number),
      [1, 2, 3, 4],
    );
    segments.release(Number.POSITIVE_INFINITY);
    assert.deepEqual(
      readSegments(dir, 'w.out').map((s) => s.text),
      ['segment 3\n', 'segment 4\n'],
    );
    assert.deepEqual(
      segments.segments().map((s) => path.basename(s.file)),
      ['w.out.000003.log', 'w.out.000004.log'],
    );
    await segments.close();
  });

  void it('gzips every segment but the newest; the .gz holds exactly the bytes, the plain file goes only after', async () => {
    const dir = scratch.dir('gzip');
    const segments = new LogSegments({ dir, key: 'w.err', gzip: true, logger: silent });
    const texts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const n = segments.allocate();
      segments.begin(n);
      texts.push(`${'abc'.repeat(100_000)}\nsegment ${n}\n`);
      write(dir, `w.err.00000${n}.log`, texts[i]!);
    }
    segments.release(Number.POSITIVE_INFINITY);
    await waitFor('two segments compressed', () => segments.segments().filter((s) => s.compressed).length === 2);
    const files = segments.segments();
    assert.deepEqual(
      files.map((s) => [path.basename(s.file), s.compressed]),
      [
        ['w.err.000000.log.gz', true],
        ['w.err.000001.log.gz', true],
        ['w.err.000002.log', false],
      ],
    );
    assert.equal(gunzipSync(readFileSync(files[0]!.file)).toString(), texts[0]);
    assert.equal(gunzipSync(readFileSync(files[1]!.file)).toString(), texts[1]);
    assert.ok(files[0]!.bytes < texts[0]!.length / 10, 'compressed');
    assert.equal(existsSync(path.join(dir, 'w.err.000000.log')), false);
    await segments.close();
  });

  void it('after a crash mid-compression: the .partial is deleted, a finished .gz wins over its plain twin', () => {
    const dir = scratch.dir('crashed-gzip');
    write(dir, 'w.out.000000.log', 'zero\n');
    write(dir, 'w.out.000000.log.gz.partial', 'half');
    write(dir, 'w.out.000001.log', 'one\n');
    write(dir, 'w.out.000001.log.gz', 'complete gz');
    const segments = new LogSegments({ dir, key: 'w.out' });
    assert.equal(existsSync(path.join(dir, 'w.out.000000.log.gz.partial')), false);
    assert.equal(existsSync(path.join(dir, 'w.out.000001.log')), false);
    assert.deepEqual(
      segments.segments().map((s) => [path.basename(s.file), s.compressed]),
      [
        ['w.out.000000.log', false],
        ['w.out.000001.log.gz', true],
      ],
    );
  });

  void it('a log file from before segments becomes a segment instead of being replaced by the symlink', () => {
    const dir = scratch.dir('legacy');
    write(dir, 'w.out.log', 'old bytes\n');
    const segments = new LogSegments({ dir, key: 'w.out', logger: silent });
    assert.equal(lstatSync(path.join(dir, 'w.out.log')).isSymbolicLink(), true);
    assert.equal(readFileSync(path.join(dir, 'w.out.log'), 'utf8'), 'old bytes\n');
    assert.equal(segments.newest, 0);
    assert.deepEqual(
      listSegments(dir, 'w.out').map((s) => path.basename(s.file)),
      ['w.out.000000.log'],
    );
  });

  void it('an unreadable directory is a coded error', () => {
    const file = path.join(scratch.dir('notadir'), 'file');
    write(path.dirname(file), 'file', '');
    assert.throws(
      () => new LogSegments({ dir: file, key: 'w.out' }),
      (err: unknown) => isHsuError(err, 'LOG_DIR_UNUSABLE'),
    );
  });
});

void describe('logs config', () => {
  void it('accepts sizes with units and fills keep from max_size', () => {
    assert.deepEqual(resolveLogSettings(logsSchema.parse({ max_size: '10MB' })), { max_size: 10_000_000, keep: 5, gzip: false, timestamp: false });
    assert.deepEqual(resolveLogSettings(logsSchema.parse({ max_size: '64MiB', keep: 2, gzip: true })), { max_size: 64 * 2 ** 20, keep: 2, gzip: true, timestamp: false });
    assert.deepEqual(resolveLogSettings(logsSchema.parse({ timestamp: true })), { max_size: null, keep: null, gzip: false, timestamp: true });
    assert.deepEqual(resolveLogSettings(undefined), { max_size: null, keep: null, gzip: false, timestamp: false });
  });

  void it('refuses bad values and unknown keys, naming the key', () => {
    for (const [input, key] of [
      [{ max_size: 'ten' }, 'max_size'],
      [{ max_size: 0 }, 'max_size'],
      [{ keep: 0 }, 'keep'],
      [{ keep: 1.5 }, 'keep'],
      [{ gzip: 'yes' }, 'gzip'],
      [{ rotate: true }, ''],
    ] as const) {
      const result = logsSchema.safeParse(input);
      assert.equal(result.success, false, JSON.stringify(input));
      if (key !== '') assert.deepEqual(result.error?.issues[0]?.path, [key]);
      else assert.match(result.error?.issues[0]?.message ?? '', /rotate/);
    }
  });
});
