/**
 * CPU time of a traced inline master.call, per call: what tracing itself costs, in a unit the
 * shared machine's load disturbs less than wall time (process.cpuUsage() over sequential calls;
 * the other sessions' work is not counted, their cache and frequency effects still are). The
 * floor is the same call on a master with no instrumentation and no call-context hook, measured
 * in the same rounds; subjects are sampled spans (sample_ratio 1) and unsampled ones (0), both
 * with exporter none (spans made and dropped).
 */
import { Master } from '../src/index.js';
import { instrumentMaster, type InstrumentOptions } from '../src/observability/index.js';
import { fixture, note, scratchDir, type Row } from './common.js';
import { fmtRatio, summarize } from './stats.js';

const CALLS = 50_000;
const ROUNDS = 5;

async function cpuPerCall(master: Master): Promise<number> {
  for (let i = 0; i < 5_000; i++) await master.call('echo', 'echo', 1); // warm: JIT, first spans
  const start = process.cpuUsage();
  for (let i = 0; i < CALLS; i++) await master.call('echo', 'echo', 1);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / CALLS;
}

export async function benchTracingCpu(): Promise<Row[]> {
  note('observability: CPU µs per traced inline master.call (exporter none) against the uninstrumented call...');
  const scratch = scratchDir('obs-tracing-cpu');
  const masters: Master[] = [];
  const make = async (): Promise<Master> => {
    const master = new Master({ logDir: scratch.dir, cgroups: 'off' });
    masters.push(master);
    master.addWorker({ id: 'echo', type: 'module', module: { module_type: 'plugin', module_path: fixture('echo-module.mjs') } });
    await master.start();
    return master;
  };
  const subjects: { name: string; options: InstrumentOptions }[] = [
    { name: 'sampled (sample_ratio 1)', options: { metrics: false, tracing: { enabled: true, exporter: 'none', sample_ratio: 1 } } },
    { name: 'unsampled (sample_ratio 0)', options: { metrics: false, tracing: { enabled: true, exporter: 'none', sample_ratio: 0 } } },
  ];
  try {
    const floorMaster = await make();
    const floor: number[] = [];
    const measured = subjects.map(() => [] as number[]);
    for (let round = 0; round < ROUNDS; round++) {
      floor.push(await cpuPerCall(floorMaster));
      for (const [i, subject] of subjects.entries()) {
        const master = await make();
        const observed = await instrumentMaster(master, subject.options);
        measured[i]!.push(await cpuPerCall(master));
        await observed.close(); // the hook is process-wide: the floor runs without it
        await master.shutdown();
      }
    }
    const f = summarize(floor).p50;
    return subjects.map((subject, i) => {
      const m = summarize(measured[i]!);
      note(`  ${subject.name}: ${m.p50.toFixed(2)} µs CPU a call (min ${m.min.toFixed(2)}), untraced ${f.toFixed(2)} µs`);
      return {
        name: `master.call inline, traced, ${subject.name}: CPU per call`,
        value: `${m.p50.toFixed(2)} µs`,
        spread: `min ${m.min.toFixed(2)} µs`,
        floor: `${f.toFixed(2)} µs untraced`,
        ratio: fmtRatio(m.p50 / f),
        target: 'report',
        status: 'info',
      } satisfies Row;
    });
  } finally {
    for (const master of masters) await master.shutdown();
    scratch.remove();
  }
}
