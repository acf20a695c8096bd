// The limits: block exactly as the issue writes it, sizes and durations, and the coded refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { limitsSchema, tryParseSize } from '../../src/limits/index.js';

void describe('limits schema', () => {
  void it('parses the issue’s block: sizes to bytes, windows to ms', () => {
    const yaml = `
memory:     { max_rss: 256MB, policy: restart }
cpu:        { max_percent: 90, window: 30s, policy: log }
open_files: { max: 4096, policy: log }
`;
    assert.deepEqual(limitsSchema.parse(parseYaml(yaml)), {
      memory: { max_rss: 256_000_000, policy: 'restart' },
      cpu: { max_percent: 90, window: 30_000, policy: 'log' },
      open_files: { max: 4096, policy: 'log' },
    });
  });

  void it('defaults: policy log, cpu window 30 s; every block optional', () => {
    assert.deepEqual(limitsSchema.parse({ memory: { max_rss: '1GiB' }, cpu: { max_percent: 150 } }), {
      memory: { max_rss: 2 ** 30, policy: 'log' },
      cpu: { max_percent: 150, window: 30_000, policy: 'log' },
    });
    assert.deepEqual(limitsSchema.parse({}), {});
  });

  void it('sizes: SI and IEC units, bytes, case-insensitive', () => {
    const cases: [unknown, number | undefined][] = [
      [1024, 1024],
      ['512', 512],
      ['512B', 512],
      ['1KB', 1000],
      ['1kib', 1024],
      ['256MB', 256e6],
      ['256MiB', 256 * 2 ** 20],
      ['1.5GB', 1.5e9],
      ['2 GiB', 2 * 2 ** 30],
      ['1TiB', 2 ** 40],
      ['256M', undefined],
      ['lots', undefined],
      [-1, undefined],
      [1.5, undefined],
      [true, undefined],
    ];
    for (const [input, bytes] of cases) assert.equal(tryParseSize(input), bytes, String(input));
  });

  void it('refuses bad values and unknown keys with the path and a hint', () => {
    const bad: [unknown, string, RegExp][] = [
      [{ memory: { max_rss: '256M' } }, 'memory.max_rss', /size like "256MB"/],
      [{ memory: { max_rss: 0 } }, 'memory.max_rss', /greater than 0/],
      [{ memory: { max_rss: '1GB', policy: 'reboot' } }, 'memory.policy', /log|restart/],
      [{ cpu: { max_percent: 0 } }, 'cpu.max_percent', /./],
      [{ cpu: { max_percent: 50, window: 'soon' } }, 'cpu.window', /duration/],
      [{ open_files: { max: 10.5 } }, 'open_files.max', /./],
      [{ memory: { max_rss: '1GB', max_vms: '2GB' } }, 'memory', /max_vms/],
      [{ disk: {} }, '', /disk/],
    ];
    for (const [input, where, message] of bad) {
      const result = limitsSchema.safeParse(input);
      assert.equal(result.success, false, JSON.stringify(input));
      const issue = result.error!.issues[0]!;
      assert.equal(issue.path.join('.'), where, JSON.stringify(input));
      assert.match(issue.message + JSON.stringify(issue), message);
    }
  });
});
