/**
 * Master RSS supervising 100 inline modules and 20 idle Node children, beside the RSS of a process
 * that only imported hsu. Each side runs in a fresh process (memory-child.ts) started the same way.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { liveChildren, note, verdict, type Row } from './common.js';
import type { MemoryMode, MemoryReport } from './memory-child.js';
import { fmtRatio } from './stats.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'memory-child.js');
const MB = 1024 * 1024;

/** `unbundled`: the library's tsc files (the `hsu-unbundled` export condition) instead of its bundle. */
async function measure(mode: MemoryMode, unbundled = false): Promise<MemoryReport> {
  const child = fork(CHILD, [mode], { execArgv: ['--expose-gc', ...(unbundled ? ['--conditions=hsu-unbundled'] : [])] });
  const exited = once(child, 'exit');
  const [report] = (await once(child, 'message')) as [MemoryReport];
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`memory child (${mode}) exited with code ${code}`);
  return report;
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '—' : `${(bytes / MB).toFixed(1)} MB`;
}

export async function benchMemory(): Promise<Row[]> {
  note('memory: fresh processes: bare node, node importing hsu (the floor), a master with 100 inline modules + 20 process workers (the package bundle, then tsc files)...');
  const bare = await measure('bare');
  const floor = await measure('floor');
  const full = await measure('master');
  const tscFiles = await measure('master', true);
  const leftovers = liveChildren();
  if (leftovers.length > 0) note(`  WARNING: live children after the memory benchmark: ${leftovers.join(', ')}`);
  note(
    `  bare node RSS ${mb(bare.rssBytes)} (after GC ${mb(bare.rssAfterGcBytes)}); floor RSS ${mb(floor.rssBytes)} (after GC ${mb(floor.rssAfterGcBytes)}); master RSS ${mb(full.rssBytes)} (after GC ${mb(full.rssAfterGcBytes)}, heap used ${mb(full.heapUsedBytes)}); ` +
      `before workers ${mb(full.rssBeforeWorkersBytes)}, with 100 inline ${mb(full.rssWithInlineBytes)}; the 20 children together ${mb(full.childrenRssBytes)}; ` +
      `the same master from tsc's files (--conditions=hsu-unbundled) ${mb(tscFiles.rssBytes)}`,
  );
  // The target: the master's RSS at most 12 MB above a bare node's, measured in the same run.
  const budget = bare.rssBytes + 12 * MB;
  const ratio = full.rssBytes / bare.rssBytes;
  return [
    { name: 'memory: master RSS, 100 inline + 20 process', value: mb(full.rssBytes), spread: `after GC ${mb(full.rssAfterGcBytes)}`, floor: `${mb(bare.rssBytes)} bare node`, ratio: fmtRatio(ratio), target: '≤ bare + 12 MB', status: verdict(full.rssBytes <= budget) },
    { name: 'memory: the same master from tsc’s files (not the bundle)', value: mb(tscFiles.rssBytes), spread: `after GC ${mb(tscFiles.rssAfterGcBytes)}`, floor: `${mb(full.rssBytes)} bundled`, ratio: fmtRatio(tscFiles.rssBytes / full.rssBytes), target: 'report', status: 'info' },
    { name: 'memory: bare node process (imports nothing)', value: mb(bare.rssBytes), spread: `after GC ${mb(bare.rssAfterGcBytes)}`, floor: '—', ratio: '—', target: 'report', status: 'info' },
    // No master runs here, so nothing trims the young generation the import grew: this is import at its worst.
    { name: 'memory: hsu import above bare node (no master started)', value: mb(floor.rssBytes - bare.rssBytes), spread: `after GC ${mb(floor.rssAfterGcBytes - bare.rssAfterGcBytes)}`, floor: '—', ratio: '—', target: 'report', status: 'info' },
    { name: 'memory: master RSS above bare node', value: mb(full.rssBytes - bare.rssBytes), spread: `after GC ${mb(full.rssAfterGcBytes - bare.rssAfterGcBytes)}`, floor: '—', ratio: '—', target: '≤ 12 MB', status: verdict(full.rssBytes <= budget) },
  ];
}
