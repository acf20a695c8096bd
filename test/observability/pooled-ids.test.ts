// The pooled id generator the tracing SDK is given: W3C-valid ids (lowercase hex of the right
// length, never all zeros), unique across many refills of the pool.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { PooledIdGenerator } from '../../src/observability/tracing/pooled-ids.js';

void describe('pooled trace and span ids', () => {
  it('are valid W3C ids and never repeat across pool refills', () => {
    const ids = new PooledIdGenerator();
    const seen = new Set<string>();
    // 20,000 of each: the 8,192 hex characters of one pool hold ~170 trace ids, so this refills it hundreds of times.
    for (let i = 0; i < 20_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      assert.ok(isValidTraceId(traceId) && /^[0-9a-f]{32}$/.test(traceId), traceId);
      assert.ok(isValidSpanId(spanId) && /^[0-9a-f]{16}$/.test(spanId), spanId);
      seen.add(traceId);
      seen.add(spanId);
    }
    assert.equal(seen.size, 40_000);
  });
});
