// Watch mode in-process, for its resources: a hundred edit -> restart cycles of an inline module
// through WatchMode over a real Master keep memory bounded, and close() gives back every watcher,
// timer and listener it took (what `hsu run --watch` relies on at shutdown).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { WatchMode } from '../../src/watch/index.js';
import { createTestMaster } from '../../src/testing/index.js';
import { sourceDir, WORKER_ENTRY } from './ts-sources.js';

const source = (n: number): string =>
  `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};\nimport { tag } from './tag.mjs';\nexport default () => defineModule({ info: { name: 'm', version: '1.0.0' }, start() {}, actions: { n: () => ${n} + tag } });\n`;
const src = sourceDir({ 'm.mjs': source(0), 'tag.mjs': 'export const tag = 0;\n', 'hsu.yaml': 'workers: []\n' }, 'hsu-watch-soak-');
after(() => src.remove());

function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

void describe('watch mode resources', { timeout: 120_000 }, () => {
  void it('100 edit/restart cycles stay within a memory bound, and close() leaves nothing active', async () => {
    const tm = await createTestMaster({ logLevel: 'info' });
    const before = activeResources();
    tm.add({ id: 'm', type: 'module', module: { module_type: 'plugin', module_path: src.file('m.mjs'), isolation: 'inline' }, watch: { delay: '10ms' } });
    const mode = await WatchMode.start({ master: tm.master, logger: tm.logs.logger, configFile: src.file('hsu.yaml'), logDir: path.join(tm.dir, 'logs') });
    await tm.start('m');
    const cycle = async (n: number): Promise<void> => {
      // Alternate the entry and its import: both are watched, and the import's new code is what runs.
      if (n % 2 === 0) writeFileSync(src.file('m.mjs'), source(n));
      else writeFileSync(src.file('tag.mjs'), `export const tag = ${n * 1000};\n`);
      for (let i = 0; i < 200; i++) {
        const value = tm.master.getWorkerState('m') === 'running' ? await tm.master.call('m', 'n').catch(() => undefined) : undefined;
        if (value === (n % 2 === 0 ? n + (n - 1) * 1000 : n - 1 + n * 1000)) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail(`edit ${n} did not reach the running module: ${JSON.stringify(await tm.master.call("m", "n").catch((e: unknown) => String(e)))}; ${tm.logs.records.filter((r) => String(r.msg).startsWith("watch")).map((r) => String(r.msg)).join(" | ")}`);
    };
    for (let n = 1; n <= 10; n++) await cycle(n);
    const warm = process.memoryUsage().rss;
    for (let n = 11; n <= 100; n++) await cycle(n);
    const grownMb = (process.memoryUsage().rss - warm) / 2 ** 20;
    // Each generation of an inline module stays loaded (ES modules cannot be unloaded): a few KiB each.
    assert.ok(grownMb < 64, `rss grew ${grownMb.toFixed(1)} MiB over 90 edit/restart cycles`);
    await mode.close();
    await tm.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const left = [...activeResources()].filter(([type, n]) => n > (before.get(type) ?? 0));
    assert.deepEqual(left, [], `left active after close: ${left.map(([t, n]) => `${t} ${n}`).join(', ')}`);
  });
});
