/**
 * A span per health probe (`hsu.health_probe`, with the probe type and verdict). The master has
 * no probe-observer seam yet, so this wraps `master.probes.create` on that one registry object
 * and gives the original back at close (see docs/observability.md, integration needs).
 */
import { SpanStatusCode, type Tracer } from '@opentelemetry/api';
import type { Master } from '../../master/master.js';

export function traceProbes(master: Master, tracer: Tracer): () => void {
  const registry = master.probes;
  const original = registry.create;
  const traced: typeof original = function (this: typeof registry, check, target) {
    const probe = original.call(this, check, target);
    return async (signal) => {
      const span = tracer.startSpan('hsu.health_probe', { attributes: { 'hsu.worker.id': target.workerId, 'hsu.probe.type': check.type } });
      try {
        const result = await probe(signal);
        span.setAttribute('hsu.probe.ok', result.ok);
        if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason ?? 'probe failed' });
        return result;
      } finally {
        span.end();
      }
    };
  };
  registry.create = traced;
  return () => {
    if (registry.create === traced) registry.create = original;
  };
}
