// Config reload on a real master from a real file: added, removed, changed and unchanged workers
// (same pid), in-place reconfiguration of a module, an invalid file that changes nothing, workers
// added at run time, and the diff's notion of "the same config".
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateConfigForMaster } from '../../src/master/config-loader.js';
import { diffWorkers } from '../../src/config/diff.js';
import { validateConfigText, type HsuConfig } from '../../src/config/index.js';
import { Master } from '../../src/master/master.js';
import { ConfigReloader, type ReloadReport } from '../../src/master/reload.js';
import { killMarked, plugin, rejectsWithCode, tempDir, waitForMarkerGone } from '../helpers/master-helpers.js';
import { apiFixture } from './helpers.js';

const T = { timeout: 60_000 };
const scratch = tempDir('reload');
after(() => scratch.remove());
let runs = 0;

interface Setup {
  readonly master: Master;
  readonly reloader: ConfigReloader;
  readonly file: string;
  readonly marker: string;
  write(text: string): void;
  pid(id: string): number | null;
  reports: ReloadReport[];
}

const proc = (id: string, marker: string, extra = ''): string => `  - id: ${id}
    type: process
    stop_timeout: 5s
    execution:
      executable_path: ${JSON.stringify(process.execPath)}
      args: [${JSON.stringify(apiFixture('signal-echo.mjs'))}]
      environment: { HSU_TEST_MARKER: ${JSON.stringify(marker)}${extra} }
`;
const mod = (id: string, file: string, config: string, extra = ''): string => `  - id: ${id}
    type: module${extra}
    module:
      module_type: plugin
      module_path: ${JSON.stringify(file)}
      config: ${config}
`;

async function withReload(initial: (marker: string) => string, body: (s: Setup) => Promise<void>): Promise<void> {
  const dir = path.join(scratch.dir, `run-${++runs}`);
  const marker = `reload-${process.pid}-${runs}`;
  const file = path.join(dir, 'hsu.yaml');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const write = (text: string): void => writeFileSync(file, text);
  write(initial(marker));
  const loaded = await validateConfigForMaster(file);
  assert.ok(loaded.ok, JSON.stringify(loaded));
  const master = Master.fromConfig(loaded.config, file);
  const reports: ReloadReport[] = [];
  const reloader = new ConfigReloader({ master, file, initial: loaded.config, read: () => validateConfigForMaster(file), onReport: (r) => reports.push(r) });
  try {
    await master.start();
    await body({ master, reloader, file, marker, write, reports, pid: (id) => master.getWorkerStateWithDiagnostics(id).pid });
  } finally {
    await master.shutdown();
    const left = await waitForMarkerGone(marker);
    killMarked(marker);
    assert.deepEqual(left, [], 'no worker outlives the master');
  }
}

void describe('config reload', () => {
  it('adds, removes and restarts what changed; what did not change keeps its pid', T, async () => {
    await withReload(
      (m) => `workers:\n${proc('keep', m)}${proc('change', m)}${proc('drop', m)}`,
      async (s) => {
        const keep = s.pid('keep');
        const change = s.pid('change');
        // Reformatted but the same for `keep` (a duration in ms instead of "5s", keys reordered).
        s.write(`workers:
  - id: keep
    execution:
      environment: { HSU_TEST_MARKER: ${JSON.stringify(s.marker)} }
      args: [${JSON.stringify(apiFixture('signal-echo.mjs'))}]
      executable_path: ${JSON.stringify(process.execPath)}
    stop_timeout: 5000
    type: process
${proc('change', s.marker, ', EXTRA: "1"')}${proc('new', s.marker)}`);
        const report = await s.reloader.reload();
        assert.deepEqual(
          { ok: report.ok, added: report.added, removed: report.removed, changed: report.changed, unchanged: report.unchanged, errors: report.errors },
          { ok: true, added: ['new'], removed: ['drop'], changed: ['change'], unchanged: ['keep'], errors: [] },
        );
        assert.equal(s.pid('keep'), keep, 'unchanged: same process');
        assert.notEqual(s.pid('change'), change);
        assert.equal(s.master.getWorkerState('change'), 'running');
        const changed = s.master.getWorkerConfig('change') as { execution?: { environment: Record<string, string> } };
        assert.equal(changed.execution?.environment.EXTRA, '1');
        assert.equal(s.master.getWorkerState('new'), 'running');
        assert.deepEqual(s.master.listWorkers().sort(), ['change', 'keep', 'new']);
        assert.deepEqual(s.reports, [report]);
        const again = await s.reloader.reload();
        assert.deepEqual([again.added, again.removed, again.changed, again.unchanged.sort()], [[], [], [], ['change', 'keep', 'new']]);
      },
    );
  });

  it('an invalid file changes nothing and reports every issue with its line', T, async () => {
    await withReload(
      (m) => `workers:\n${proc('a', m)}`,
      async (s) => {
        const pid = s.pid('a');
        s.write(`workers:\n${proc('a', s.marker)}  - id: b\n    type: process\n    stop_timeout: soon\n    execution: { executable_path: node }\n  - id: c\n    type: banana\n`);
        const error = await rejectsWithCode(s.reloader.reload(), 'HSU_ERR_CONFIG_INVALID');
        const issues = error.context.issues as { path: string; line: number }[];
        assert.deepEqual(
          issues.map((i) => [i.path, i.line]),
          [
            ['workers[1].stop_timeout', 11],
            ['workers[2].type', 14],
          ],
        );
        assert.deepEqual(s.master.listWorkers(), ['a']);
        assert.equal(s.pid('a'), pid);
        s.write('workers: [');
        await rejectsWithCode(s.reloader.reload(), 'HSU_ERR_CONFIG_INVALID');
        const { rmSync } = await import('node:fs');
        rmSync(s.file);
        await rejectsWithCode(s.reloader.reload(), 'HSU_ERR_CONFIG_NOT_FOUND');
        assert.equal(s.pid('a'), pid);
        assert.deepEqual(s.reports, []);
      },
    );
  });

  it('a change of only module.config is applied in place by a module that can; others restart with it', T, async () => {
    const reconfigurable = apiFixture('reconfigurable.mjs');
    await withReload(
      () => `workers:\n${mod('live', reconfigurable, '{ level: 1 }')}${mod('plain', plugin('ok.mjs'), '{ level: 1 }')}`,
      async (s) => {
        const liveInstance = await s.master.call('live', 'instance');
        const plainInstance = await s.master.call('plain', 'instance');
        s.write(`workers:\n${mod('live', reconfigurable, '{ level: 2 }')}${mod('plain', plugin('ok.mjs'), '{ level: 2 }')}`);
        const report = await s.reloader.reload();
        assert.deepEqual([report.reconfigured, report.changed, report.errors], [['live'], ['plain'], []]);
        assert.equal(await s.master.call('live', 'instance'), liveInstance, 'the same instance');
        assert.deepEqual(await s.master.call('live', 'config'), { level: 2 });
        assert.notEqual(await s.master.call('plain', 'instance'), plainInstance, 'restarted');
        assert.deepEqual(await s.master.call('plain', 'config'), { level: 2 });
        assert.deepEqual((await s.reloader.reload()).unchanged.sort(), ['live', 'plain'], 'what was applied in place counts as applied');
        // A module that refuses the new config: reported, and restarted with it instead.
        s.write(`workers:\n${mod('live', reconfigurable, '{ level: 3, reject: true }')}${mod('plain', plugin('ok.mjs'), '{ level: 2 }')}`);
        const refused = await s.reloader.reload();
        assert.deepEqual([refused.ok, refused.changed, refused.errors.map((e) => [e.worker_id, e.step, e.code])], [false, ['live'], [['live', 'reconfigure', 'E_REFUSED']]]);
        assert.notEqual(await s.master.call('live', 'instance'), liveInstance);
        assert.deepEqual(await s.master.call('live', 'config'), { level: 3, reject: true });
      },
    );
  });

  it('Master.reconfigureWorker: a restart after an in-place reconfigure keeps the new config; unsupported for modules without the action and for processes', T, async () => {
    const reconfigurable = apiFixture('reconfigurable.mjs');
    await withReload(
      (m) => `workers:\n${mod('live', reconfigurable, '{ level: 1 }')}${mod('plain', plugin('ok.mjs'), '{}')}${proc('p', m)}`,
      async (s) => {
        assert.equal(await s.master.reconfigureWorker('live', { level: 2 }), 'applied');
        assert.deepEqual(await s.master.call('live', 'config'), { level: 2 });
        assert.deepEqual(s.master.getWorkerConfig('live').module?.config, { level: 2 });
        const before = await s.master.call('live', 'instance');
        await s.master.restartWorker('live');
        assert.notEqual(await s.master.call('live', 'instance'), before, 'restarted');
        assert.deepEqual(await s.master.call('live', 'config'), { level: 2 }, 'the restart initialized with the new config, not the old one');
        await s.master.stopWorker('live');
        assert.equal(await s.master.reconfigureWorker('live', { level: 3 }), 'applied', 'a stopped worker: the next start takes it');
        await s.master.startWorker('live');
        assert.deepEqual(await s.master.call('live', 'config'), { level: 3 });
        assert.equal(await s.master.reconfigureWorker('plain', {}), 'unsupported');
        assert.equal(await s.master.reconfigureWorker('p', {}), 'unsupported');
        await rejectsWithCode(s.master.reconfigureWorker('nope', {}), 'HSU_ERR_WORKER_NOT_FOUND');
        await assert.rejects(s.master.reconfigureWorker('live', { reject: true }), (e: { code?: string }) => e.code === 'E_REFUSED');
        assert.deepEqual(await s.master.call('live', 'config'), { level: 3 }, 'a refused config is not stored');
        assert.deepEqual(s.master.getWorkerConfig('live').module?.config, { level: 3 });
      },
    );
  });

  for (const isolation of ['thread', 'process'] as const) {
    it(`a module in ${isolation === 'thread' ? 'a thread' : 'its own process'} restarts with the config it was reconfigured to`, T, async () => {
      const reconfigurable = apiFixture('reconfigurable.mjs');
      const withIsolation = (config: string): string =>
        isolation === 'thread' ? mod('live', reconfigurable, config).replace('module_path:', 'isolation: thread\n      module_path:') : mod('live', reconfigurable, config).replace('type: module', 'type: process');
      await withReload(
        () => `workers:\n${withIsolation('{ level: 1 }')}`,
        async (s) => {
          assert.equal(await s.master.reconfigureWorker('live', { level: 2 }), 'applied');
          await s.master.restartWorker('live');
          assert.deepEqual(await s.master.call('live', 'config'), { level: 2 });
        },
      );
    });
  }

  for (const deployment of ['inline', 'thread', 'process'] as const) {
    it(`a module's reconfigure() method (no action of its own) takes a reload's config in place: ${deployment}`, T, async () => {
      const file = apiFixture('reconfigure-method.mjs');
      const worker = (config: string): string => {
        const text = mod('m', file, config);
        if (deployment === 'thread') return text.replace('module_path:', 'isolation: thread\n      module_path:');
        return deployment === 'process' ? text.replace('type: module', 'type: process') : text;
      };
      await withReload(
        () => `workers:\n${worker('{ level: 1 }')}`,
        async (s) => {
          const instance = await s.master.call('m', 'instance');
          s.write(`workers:\n${worker('{ level: 2 }')}`);
          const report = await s.reloader.reload();
          assert.deepEqual([report.reconfigured, report.changed, report.errors], [['m'], [], []]);
          assert.equal(await s.master.call('m', 'instance'), instance, 'not restarted');
          assert.deepEqual(await s.master.call('m', 'seen'), { ctx_config: { level: 2 }, applied: { level: 2 } });
          s.write(`workers:\n${worker('{ level: 3, reject: true }')}`);
          const refused = await s.reloader.reload();
          assert.deepEqual([refused.changed, refused.errors.map((e) => e.code)], [['m'], ['E_REFUSED']]);
          assert.notEqual(await s.master.call('m', 'instance'), instance, 'refused: restarted with the new config');
          assert.deepEqual(await s.master.call('m', 'seen'), { ctx_config: { level: 3, reject: true }, applied: null });
        },
      );
    });
  }

  it('keeps the operator’s choices: a stopped worker stays stopped, enabling starts, disabling stops', T, async () => {
    await withReload(
      (m) => `workers:\n${proc('stopped', m)}${proc('off', m).replace('stop_timeout', 'enabled: false\n    stop_timeout')}${proc('on', m)}`,
      async (s) => {
        await s.master.stopWorker('stopped');
        assert.equal(s.master.getWorkerState('off'), 'idle');
        s.write(`workers:\n${proc('stopped', s.marker, ', X: "2"')}${proc('off', s.marker)}${proc('on', s.marker).replace('stop_timeout', 'enabled: false\n    stop_timeout')}`);
        const report = await s.reloader.reload();
        assert.deepEqual(report.changed.sort(), ['off', 'on', 'stopped']);
        assert.equal(s.master.getWorkerState('stopped'), 'idle', 'replaced with its new config, not started');
        assert.equal(s.master.getWorkerState('off'), 'running', 'enabled now: started');
        assert.equal(s.master.getWorkerState('on'), 'idle', 'disabled now: stopped');
      },
    );
  });

  it('leaves workers added at run time alone, adopts one the file now declares, warns about master settings', T, async () => {
    await withReload(
      (m) => `workers:\n${proc('a', m)}`,
      async (s) => {
        s.master.addWorker(validWorker(s.marker, 'extra', s.file));
        await s.master.startWorker('extra');
        const extraPid = s.pid('extra');
        s.write(`master:\n  shutdown_timeout: 7s\nworkers:\n${proc('a', s.marker)}`);
        const report = await s.reloader.reload();
        assert.deepEqual([report.removed, report.unchanged, report.warnings], [[], ['a'], ['master.shutdown_timeout changed; it takes effect when the master is restarted']]);
        assert.equal(s.pid('extra'), extraPid);
        s.write(`workers:\n${proc('a', s.marker)}${proc('extra', s.marker)}`);
        const adopted = await s.reloader.reload();
        assert.deepEqual(adopted.unchanged.sort(), ['a', 'extra'], 'the same config as the file now says: adopted untouched');
        assert.equal(s.pid('extra'), extraPid);
        s.write(`workers:\n${proc('a', s.marker)}`);
        assert.deepEqual((await s.reloader.reload()).removed, ['extra'], 'once adopted, the file manages it');
      },
    );
  });

  it('reloads run one at a time', T, async () => {
    await withReload(
      (m) => `workers:\n${proc('a', m)}`,
      async (s) => {
        s.write(`workers:\n${proc('a', s.marker)}${proc('b', s.marker)}`);
        const [first, second] = await Promise.all([s.reloader.reload(), s.reloader.reload()]);
        assert.deepEqual([first.added, second.added, second.unchanged.sort()], [['b'], [], ['a', 'b']]);
      },
    );
  });
});

/** A worker as the API would add it, its paths resolved against the config file's directory. */
function validWorker(marker: string, id: string, file: string): Parameters<Master['addWorker']>[0] {
  const parsed = validateConfigText(`workers:\n${proc(id, marker)}`, file);
  assert.ok(parsed.ok);
  return parsed.config.workers[0]!;
}

void describe('config diff', () => {
  const parse = (text: string): HsuConfig => {
    const result = validateConfigText(text, '/base/hsu.yaml');
    assert.ok(result.ok, JSON.stringify(result));
    return result.config;
  };

  it('compares parsed, resolved configs: units, defaults and key order do not count', () => {
    const a = parse('workers:\n  - { id: x, type: process, stop_timeout: 10s, execution: { executable_path: ./bin/x } }\n');
    const b = parse('workers:\n  - { execution: { executable_path: /base/bin/x, args: [] }, type: process, id: x, restart: { policy: on-failure } }\n');
    assert.deepEqual(diffWorkers(a.workers, b.workers), { added: [], removed: [], changed: [], unchanged: ['x'] });
  });

  it('names the keys that changed, and recognises a change of module.config alone', () => {
    const a = parse('workers:\n  - { id: m, type: module, module: { module_type: native, module_name: n, config: { a: 1 } } }\n  - { id: p, type: process, execution: { executable_path: x } }\n');
    const b = parse('workers:\n  - { id: m, type: module, module: { module_type: native, module_name: n, config: { a: 2 } } }\n  - { id: p, type: process, stop_signal: SIGINT, execution: { executable_path: y } }\n');
    const diff = diffWorkers(a.workers, b.workers);
    assert.deepEqual(
      diff.changed.map((c) => [c.id, c.keys, c.onlyModuleConfig]),
      [
        ['m', ['module.config'], true],
        ['p', ['stop_signal', 'execution'], false],
      ],
    );
  });
});
