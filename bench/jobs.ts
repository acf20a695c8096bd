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
  'api:list': async () => (await import('./api.js')).benchApiList(),
  'api:sse': async () => (await import('./api.js')).benchApiSse(),
  'api:ls': async () => (await import('./api-ls.js')).benchHsuLs(),
};
