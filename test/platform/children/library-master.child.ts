/**
 * The README's library use: a script that runs a whole config file through Master.fromConfigFile,
 * starts it, reports the pids of its workers, and keeps running until it is killed.
 * Usage: library-master.child.js <config.yaml>.
 */
import { Master } from '../../../src/index.js';
import { report } from './report.js';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: library-master.child.js <config.yaml>');
const master = await Master.fromConfigFile(file);
const results = await master.start();
const pids = Object.fromEntries(master.listWorkers().map((id) => [id, master.getWorkerStateWithDiagnostics(id).pid]));
report({ pid: process.pid, results, pids });
setInterval(() => undefined, 1 << 30); // an application that lives until it is stopped
