// Public face of the PM2 importer (`hsu import pm2 <ecosystem file>`).
export { importPm2 } from './convert.js';
export type { ImportResult } from './convert.js';
export { appToWorker, splitArgs, pm2Size, pm2Duration } from './app-to-worker.js';
export { readEcosystem } from './ecosystem-file.js';
export type { Pm2App } from './ecosystem-file.js';
