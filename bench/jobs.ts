/** Every benchmark job, in run order. run.ts starts each in a fresh process (child.ts). */
import type { Row } from './common.js';

export const JOBS: Readonly<Record<string, () => Promise<Row[]>>> = {
  'start:inline': async () => (await import('./start-latency.js')).startInline(),
  'start:thread': async () => (await import('./start-latency.js')).startThread(),
  'start:hosted': async () => (await import('./start-latency.js')).startHosted(),
  'start:process': async () => (await import('./start-latency.js')).startProcess(),
  restart: async () => (await import('./restart.js')).benchRestart(),
  'calls:inline': async () => (await import('./calls.js')).callsInline(true),
  'calls:inline-fast': async () => (await import('./calls.js')).callsInline(false),
  'calls:moleculer': async () => (await import('./calls.js')).callsMoleculer(),
  'calls:thread': async () => (await import('./calls.js')).callsThread(),
  'calls:process': async () => (await import('./calls.js')).callsProcess(),
  memory: async () => (await import('./memory.js')).benchMemory(),
  'os:sampler': async () => (await import('./os.js')).benchSampler(),
  'os:exit': async () => (await import('./os.js')).benchExit(),
  'mesh:pick:round_robin': async () => (await import('./mesh.js')).benchPick('round_robin'),
  'mesh:pick:weighted': async () => (await import('./mesh.js')).benchPick('weighted'),
  'mesh:pick:least_connections': async () => (await import('./mesh.js')).benchPick('least_connections'),
  'mesh:pick:random': async () => (await import('./mesh.js')).benchPick('random'),
  'mesh:pick:consistent_hash': async () => (await import('./mesh.js')).benchPick('consistent_hash'),
  'mesh:router-inline': async () => (await import('./mesh.js')).benchRouter('inline'),
  'mesh:router-thread': async () => (await import('./mesh.js')).benchRouter('thread'),
  'mesh:router-process': async () => (await import('./mesh.js')).benchRouter('process'),
  'mesh:moleculer': async () => (await import('./mesh.js')).benchMoleculer(),
};
