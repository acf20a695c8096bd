/**
 * Last line of defence, one per master: however this process ends (a normal exit, an uncaught
 * exception, a default-action SIGTERM or SIGHUP nobody else handles), no process worker of this
 * master outlives it. signal-exit runs the hook and then lets the signal take its default course;
 * the hook is removed when the master has shut down, leaving the process as it was found.
 */
import { onExit } from 'signal-exit';
import type { ProcessGroups } from '../os/process-groups.js';

export function installLastResort(groups: ProcessGroups): () => void {
  return onExit(() => groups.killAllSync(), { alwaysLast: true });
}
