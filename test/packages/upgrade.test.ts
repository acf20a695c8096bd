// Upgrade and rollback of a packaged worker by reload, as an operator does it: a real `hsu run`,
// real tarballs in a repository the config names, the config file edited and SIGHUP sent. A good
// new version replaces the old one (that worker alone); a new version that crashes inside its
// rollback_window is replaced by the previous one; a lower version without allow_downgrade is
// refused and the running version is not touched.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HsuRun, type LogLine } from '../helpers/hsu-run.js';
import { tempDir } from '../helpers/master-helpers.js';
import { fixture } from '../helpers/paths.js';
import { buildPackage } from './helpers.js';

const scratch = tempDir('pkg-upgrade');
after(() => scratch.remove());

void describe('a packaged worker across reloads', () => {
  it('upgrades on reload, rolls back a version that crashes in its window, refuses a downgrade', { timeout: 120_000 }, async () => {
    const dir = path.join(scratch.dir, 'app');
    const repo = path.join(dir, 'repo');
    mkdirSync(repo, { recursive: true });
    await buildPackage(repo, { name: 'tool', version: '1.0.0', types: ['process'] });
    await buildPackage(repo, { name: 'tool', version: '1.1.0', types: ['process'] });
    // 2.0.0 starts, then dies: what a bad release does a moment after it came up.
    await buildPackage(repo, { name: 'tool', version: '2.0.0', types: ['process'], files: { 'bin/run': { content: '#!/bin/sh\necho "run tool@2.0.0 $*"\nsleep 0.3\nexit 3\n', mode: 0o755 } } });
    const config = path.join(dir, 'hsu.yaml');
    const write = (version: string, extra: string[] = []): void =>
      writeFileSync(
        config,
        [
          'master: { state_dir: .hsu, log_dir: logs, shutdown_timeout: 5s, packages: { repositories: [repo] } }',
          'workers:',
          '  - id: svc',
          '    type: process',
          `    package: "tool:${version}"`,
          '    rollback_window: 10s',
          '    restart: { backoff: { initial: 50ms, max: 50ms, jitter: 0 } }',
          ...extra,
          '  - id: other',
          '    type: process',
          `    execution: { executable_path: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(fixture('../os/fixtures/idle.mjs'))}] }`,
          '',
        ].join('\n'),
      );
    write('1.0.0');
    const run = new HsuRun(config, dir);
    try {
      const running = (n: number): Promise<LogLine> => run.waitFor(`svc running #${n}`, (l) => l.msg === 'state' && l.worker === 'svc' && l.to === 'running' && run.lines.filter((x) => x.msg === 'state' && x.worker === 'svc' && x.to === 'running').indexOf(l) === n - 1, 30_000);
      const said = (text: string): Promise<LogLine> => run.waitFor(text, (l) => l.worker === 'svc' && typeof l.msg === 'string' && l.msg.startsWith(text), 30_000);
      await said('run tool@1.0.0');
      const first = Number((await running(1)).pid);
      const other = Number((await run.waitFor('other running', (l) => l.msg === 'state' && l.worker === 'other' && l.to === 'running')).pid);
      await run.waitFor('master running', (l) => l.msg === 'master running');

      // A good upgrade: that worker alone restarts, on the new version.
      write('1.1.0');
      run.signal('SIGHUP');
      await said('run tool@1.1.0');
      const second = Number((await running(2)).pid);
      assert.notEqual(second, first);

      // A bad release: up, then it crashes inside the window, and 1.1.0 is back.
      write('2.0.0');
      run.signal('SIGHUP');
      await said('run tool@2.0.0');
      const rolled = await run.waitFor('the rollback', (l) => l.worker === 'svc' && /package upgrade rolled back/.test(l.msg ?? ''), 30_000);
      assert.equal(rolled.to, '1.1.0');
      assert.match(String(rolled.reason), /crashed|failed/);
      // The previous version, started again after the rollback.
      const from = run.lines.indexOf(rolled);
      await run.waitFor('1.1.0 running again', (l) => run.lines.indexOf(l) > from && l.msg === 'state' && l.worker === 'svc' && l.to === 'running', 30_000);
      await run.waitFor('1.1.0 again', (l) => run.lines.indexOf(l) > from && l.worker === 'svc' && l.msg?.startsWith('run tool@1.1.0') === true, 30_000);

      // A downgrade without allow_downgrade is refused before anything stops.
      const runningBefore = run.lines.filter((l) => l.msg === 'state' && l.worker === 'svc' && l.to === 'running').length;
      write('1.0.0');
      run.signal('SIGHUP');
      const refused = await run.waitFor('the downgrade refused', (l) => l.msg === 'reload: could not replace worker' && l.worker === 'svc', 30_000);
      assert.match(JSON.stringify(refused.err), /HSU_ERR_PACKAGE_DOWNGRADE/);
      assert.equal(run.lines.filter((l) => l.msg === 'state' && l.worker === 'svc' && l.to === 'running').length, runningBefore, 'svc was not restarted');

      // With allow_downgrade it goes through.
      write('1.0.0', ['    allow_downgrade: true']);
      run.signal('SIGHUP');
      await running(runningBefore + 1);
      assert.equal(run.lines.filter((l) => l.msg === 'state' && l.worker === 'other' && l.to === 'running').length, 1, 'the other worker was never restarted');
      assert.equal(Number(run.lines.find((l) => l.msg === 'state' && l.worker === 'other' && l.to === 'running')?.pid), other);
      const book = JSON.parse(readFileSync(path.join(dir, '.hsu', 'packages', 'tool', '.current.json'), 'utf8')) as { scopes: Record<string, { current: string }> };
      assert.ok(book.scopes['svc'] !== undefined, 'the store records the worker’s current version');

      run.signal('SIGTERM');
      assert.equal(await run.exitCode(), 0);
    } finally {
      run.kill();
      await run.exited;
    }
  });
});
