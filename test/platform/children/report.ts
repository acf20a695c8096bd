// Shared by the child scripts: what keeps this process alive, and the one report line a test reads.
export { waitFor } from '../../conformance/harness.js';

/**
 * Active handles and requests by type, sorted: comparable before and after a master's life. The
 * stdio handles are created lazily by whoever first touches them; they belong to the process, so
 * both exist before the first reading.
 */
export function activeResources(): string[] {
  void process.stdout;
  void process.stderr;
  return [...process.getActiveResourcesInfo()].sort();
}

/** Lets pending close callbacks run, so what is left is what something still holds. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

export function report(value: unknown): void {
  process.stdout.write(`REPORT ${JSON.stringify(value)}\n`);
}
