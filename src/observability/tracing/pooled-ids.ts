/**
 * Trace and span ids cut from a pool of cryptographic randomness. The SDK's RandomIdGenerator
 * writes Math.random() words into a buffer and hex-encodes it for every id (~0.7 µs for a trace
 * and a span id, a tenth of a traced inline call); this fills 4 KiB at a time, hex-encodes it
 * once and slices: ~0.15 µs, and the ids come from crypto instead of Math.random.
 */
import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const POOL_BYTES = 4096;
const ZERO = /^0+$/;

export class PooledIdGenerator implements IdGenerator {
  private readonly bytes = Buffer.allocUnsafe(POOL_BYTES);
  private pool = '';
  private at = 0;

  generateTraceId(): string {
    return this.take(32);
  }

  generateSpanId(): string {
    return this.take(16);
  }

  private take(chars: number): string {
    for (;;) {
      if (this.at + chars > this.pool.length) {
        this.pool = randomFillSync(this.bytes).toString('hex');
        this.at = 0;
      }
      const id = this.pool.slice(this.at, this.at + chars);
      this.at += chars;
      if (!ZERO.test(id)) return id; // all zeros is the invalid id (W3C trace context)
    }
  }
}
