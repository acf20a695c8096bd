/**
 * The master's own Node process metrics (process_cpu_seconds_total, process_resident_memory_bytes,
 * nodejs_eventloop_lag_*, nodejs_gc_duration_seconds, heap spaces...) from prom-client. They
 * describe the process, not a master, and prom-client's collectors (a GC observer, an event-loop
 * delay histogram) cannot be switched off again: one registry per process, made on first use.
 */
import { Registry, collectDefaultMetrics } from 'prom-client';

let shared: Registry | undefined;

export function nodeMetricsRegistry(): Registry {
  if (shared === undefined) {
    shared = new Registry();
    collectDefaultMetrics({ register: shared });
  }
  return shared;
}
