/**
 * A real garbage collection for heap bounds in soak tests: node --test does not pass --expose-gc,
 * and `global.gc?.()` without it silently does nothing (the bound then measures garbage).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Twice: objects with finalizers or weak references need a second pass. */
export function forceGc(): void {
  collect();
  collect();
}

/** The heap in use once garbage is gone: what a soak's bound compares. */
export function heapAfterGc(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}
