/**
 * What each top-level dependency costs the master to import, and what hsu's own entry points cost:
 * each specifier is imported alone in a fresh `node --expose-gc` process, RSS and heap read after
 * two forced GCs, beside the same process importing nothing (the floor). Three fresh processes per
 * specifier, interleaved with the floor, medians reported. A dependency's own cost includes the
 * first-ESM-package warm-up of the loader, which any first import pays whichever it is.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixture, note, repoRoot, type Row } from './common.js';
import { fmtMs, summarize } from './stats.js';

const ROUNDS = 3;
const MB = 1024 * 1024;

interface Cost {
  readonly ms: number;
  readonly rss: number;
  readonly heapUsed: number;
}

function importOnce(spec: string): Cost {
  const out = execFileSync(process.execPath, ['--expose-gc', fixture('footprint-import-one.mjs'), spec], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as Cost;
}

/** The specifiers measured: every runtime dependency, then hsu's public entries and the CLI's paths. */
function specifiers(): { label: string; spec: string }[] {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const own = (file: string): string => pathToFileURL(path.join(repoRoot, 'dist', 'src', file)).href;
  return [
    ...Object.keys(pkg.dependencies).map((name) => ({ label: name, spec: name })),
    { label: 'hsu (the package root: Master and everything it exports)', spec: 'hsu' },
    { label: 'hsu, tsc files (the root without the bundle)', spec: own('index.js') },
    { label: 'hsu/worker', spec: 'hsu/worker' },
    { label: 'hsu CLI dispatch (the bundle the binary runs)', spec: own('bundle/cli.js') },
    { label: 'hsu CLI client `ls` (tsc files)', spec: own('cli/client/ls.js') },
    { label: 'hsu CLI `run`, the master path (tsc files)', spec: own('cli/run.js') },
  ];
}

export async function benchImportCost(): Promise<Row[]> {
  const list = specifiers();
  note(`import cost: ${list.length} specifiers, each alone in a fresh process, ${ROUNDS} rounds beside a process importing nothing...`);
  const floor: Cost[] = [];
  const costs = new Map<string, Cost[]>(list.map((s) => [s.spec, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const { spec } of list) {
      floor.push(importOnce('none'));
      costs.get(spec)!.push(importOnce(spec));
    }
  }
  const med = (xs: readonly Cost[], pick: (c: Cost) => number): number => summarize(xs.map(pick)).p50;
  const floorRss = med(floor, (c) => c.rss);
  const floorHeap = med(floor, (c) => c.heapUsed);
  note(`  floor (imports nothing): RSS ${(floorRss / MB).toFixed(1)} MB, heap ${(floorHeap / MB).toFixed(1)} MB`);
  await Promise.resolve();
  return list.map(({ label, spec }) => {
    const c = costs.get(spec)!;
    const rss = med(c, (x) => x.rss) - floorRss;
    const heap = med(c, (x) => x.heapUsed) - floorHeap;
    note(`  ${label}: +${(rss / MB).toFixed(1)} MB RSS, +${(heap / MB).toFixed(1)} MB heap, ${fmtMs(med(c, (x) => x.ms))}`);
    return { name: `import cost: ${label}`, value: `+${(rss / MB).toFixed(1)} MB RSS`, spread: `heap +${(heap / MB).toFixed(1)} MB, ${fmtMs(med(c, (x) => x.ms))}`, floor: `${(floorRss / MB).toFixed(1)} MB node`, ratio: '—', target: 'report', status: 'info' };
  });
}
