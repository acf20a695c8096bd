// `hsu run --watch` through the real binary, with real file edits: each worker restarted alone
// for its own files (an inline .ts module through a local import, a thread module, a hosted module
// in its own process, a Node script, a configured glob, a working directory), a burst of saves
// debounced into one restart, the reason in the log, a broken save recovered by the next one, and
// no restart at all for a file the worker keeps writing itself.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { HsuProcess, restartOf, type LogLine } from './hsu-process.js';
import { sourceDir, WORKER_ENTRY } from './ts-sources.js';

const started = (what: string) => (r: LogLine): boolean => typeof r.msg === 'string' && r.msg.includes(`${what} started`);
const moduleSource = (name: string, version: string): string =>
  `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};\nexport default () => defineModule({ info: { name: '${name}', version: '1.0.0' }, start(ctx) { ctx.logger.info('${name} ${version} started'); }, actions: { v: () => '${version}' } });\n`;

const CONFIG = `master:
  log_dir: logs
workers:
  - id: greeter
    type: module
    module: { module_type: plugin, module_path: greeter.ts, isolation: inline }
    watch: { delay: 300ms }
  - id: thready
    type: module
    module: { module_type: plugin, module_path: thready.mjs, isolation: thread }
    restart: { policy: never }
  - id: hosted
    type: process
    module: { module_type: plugin, module_path: hosted.mjs }
  - id: web
    type: process
    execution: { executable_path: node, args: [server.mjs], working_directory: web }
  - id: globbed
    type: process
    execution: { executable_path: node, args: [-e, "console.log('globbed started'); setInterval(() => {}, 1000)"] }
    watch: { paths: ["glob/conf/*.json"] }
  - id: writer
    type: process
    execution: { executable_path: /bin/sh, args: ["-c", "i=0; while true; do i=$((i+1)); echo $i > out.txt; sleep 0.05; done"], working_directory: writer }
`;

const src = sourceDir({
  'hsu.yaml': CONFIG,
  'greeter.ts': `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};\nimport { VERSION } from './helper.ts';\nexport default () => defineModule({ info: { name: 'greeter', version: '1.0.0' }, start(ctx): void { ctx.logger.info(\`greeter \${VERSION} started\`); }, actions: { v: (): string => VERSION } });\n`,
  'helper.ts': `export const VERSION: string = 'v1';\n`,
  'thready.mjs': moduleSource('thready', 'v1'),
  'hosted.mjs': moduleSource('hosted', 'v1'),
  'web/server.mjs': `console.log('web v1 started'); setInterval(() => {}, 1000);\n`,
  'glob/conf/a.json': '{"n":1}\n',
  'glob/conf/notes.txt': 'notes\n',
  'writer/input.txt': 'one\n',
}, 'hsu-watch-');
after(() => src.remove());

/** How many times the writer has written out.txt (its counter), 0 before the first. */
function writes(): number {
  try {
    return Number(readFileSync(src.file('writer/out.txt'), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

/** Polls the writer's counter: it logs nothing, so there is no log line to wait on. */
async function writerPasses(count: number): Promise<void> {
  const target = writes() + count;
  for (let i = 0; i < 600 && writes() < target; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(writes() >= target, `the writer wrote ${writes()} times, expected ${target}`);
}

void describe('hsu run --watch', { timeout: 120_000 }, () => {
  void it('restarts only the worker whose files changed, debounced, with the reason; recovers a broken save; ignores the worker\'s own writes', async () => {
    const hsu = new HsuProcess(['run', '--watch', '--json', 'hsu.yaml'], src.dir);
    try {
      await hsu.waitFor((r) => r.msg === 'master running', 'master running');
      const watching = hsu.matching((r) => typeof r.msg === 'string' && r.msg.startsWith('watch: watching'))[0];
      assert.deepEqual(Object.keys((watching?.workers ?? {}) as object).sort(), ['globbed', 'greeter', 'hosted', 'thready', 'web', 'writer']);
      for (const what of ['greeter v1', 'thready v1', 'hosted v1', 'web v1', 'globbed']) await hsu.waitFor(started(what), what);

      // The writer rewrites out.txt in its watched working directory, well past the settle time.
      await writerPasses(40);

      // A burst of saves of a local import of the inline .ts module: one restart, the last code.
      for (const version of ['v2', 'v3', 'v4', 'v5', 'v6']) writeFileSync(src.file('helper.ts'), `export const VERSION: string = '${version}';\n`);
      await hsu.waitFor(started('greeter v6'), 'greeter v6 started');
      const greeter = hsu.matching(restartOf('greeter'));
      assert.equal(greeter.length, 1, JSON.stringify(greeter));
      assert.deepEqual(greeter[0]?.files, ['helper.ts']);
      assert.match(String(greeter[0]?.msg), /restarting greeter: helper\.ts changed/);

      writeFileSync(src.file('thready.mjs'), moduleSource('thready', 'v2'));
      await hsu.waitFor(started('thready v2'), 'thready v2 started');
      // A half-written save fails the start (policy never: it stays failed); the next save starts it again.
      writeFileSync(src.file('thready.mjs'), 'export default () => {{ this is not javascript\n');
      await hsu.waitFor((r) => r.worker === 'thready' && r.to === 'failed_start', 'thready failed to start');
      writeFileSync(src.file('thready.mjs'), moduleSource('thready', 'v3'));
      await hsu.waitFor(started('thready v3'), 'thready v3 started');
      assert.match(String(hsu.matching(restartOf('thready'))[2]?.msg), /starting thready: thready\.mjs changed/);

      writeFileSync(src.file('hosted.mjs'), moduleSource('hosted', 'v2'));
      await hsu.waitFor(started('hosted v2'), 'hosted v2 started');

      writeFileSync(src.file('web/server.mjs'), `console.log('web v2 started'); setInterval(() => {}, 1000);\n`);
      await hsu.waitFor(started('web v2'), 'web v2 started');

      // Outside the glob: nothing; inside: a restart naming only that file.
      writeFileSync(src.file('glob/conf/notes.txt'), 'more notes\n');
      writeFileSync(src.file('glob/conf/a.json'), '{"n":2}\n');
      const globbed = await hsu.waitFor(restartOf('globbed'), 'globbed restarted');
      assert.deepEqual(globbed.files, ['glob/conf/a.json']);

      writeFileSync(src.file('writer/input.txt'), 'two\n');
      const writer = await hsu.waitFor(restartOf('writer'), 'writer restarted');
      assert.deepEqual(writer.files, ['writer/input.txt']);
      await hsu.waitFor((r) => r.worker === 'writer' && r.to === 'running', 'writer running again', 2);
      await writerPasses(40);

      const counts = Object.fromEntries(['greeter', 'thready', 'hosted', 'web', 'globbed', 'writer'].map((id) => [id, hsu.matching(restartOf(id)).length]));
      assert.deepEqual(counts, { greeter: 1, thready: 3, hosted: 1, web: 1, globbed: 1, writer: 1 });
      assert.ok(hsu.matching((r) => r.worker === 'writer' && r.msg === 'watch: ignoring a file the worker writes itself').length >= 1);
    } finally {
      assert.equal(await hsu.stop(), 0);
    }
    assert.ok(hsu.matching((r) => r.msg === 'shutdown complete').length === 1);
  });

  void it('refuses -d with --watch (a daemon would restart unseen)', async () => {
    const err: string[] = [];
    assert.equal(await main(['run', '-d', '--watch', src.file('hsu.yaml')], { out: () => undefined, err: (t) => err.push(t) }), 1);
    assert.match(err.join(''), /--watch is a foreground development mode/);
  });
});
