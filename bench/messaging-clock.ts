/** One clock for every process of a latency benchmark: CLOCK_MONOTONIC (process.hrtime) is system-wide on Linux. */
export function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/** Calls `send` at `rate` per second for `durationMs` on setImmediate turns (a paced open loop, not a burst). */
export function paced(rate: number, durationMs: number, send: () => void): Promise<number> {
  const total = Math.floor((durationMs / 1000) * rate);
  const start = performance.now();
  let sent = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        send();
        sent++;
      }
      if (sent < total) setImmediate(tick);
      else resolve(sent);
    };
    tick();
  });
}
