/**
 * Tracing inside a thread or child host, loaded by the host when the master traces (its URL comes
 * with `init`). Spans a module opens there are children of the master's call span (the W3C
 * context rides on each call message) and are sent back to the master, whose exporter exports
 * them: the host needs no exporter and no endpoint of its own.
 */
import { isMainThread } from 'node:worker_threads';
import type { FromHost } from '../../protocol/messages.js';
import type { CallContextHook } from '../call-context.js';
import { otelCallContextHook } from './hook.js';
import { serializeSpan, type SerializedSpan } from './remote-spans.js';
import { loadSdk } from './sdk.js';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

export interface RemoteTracingOptions {
  readonly sample_ratio: number;
  readonly service_name: string;
}

/** Buffers ended spans and posts them in one message per event-loop turn. */
class ForwardingProcessor implements SpanProcessor {
  private buffer: SerializedSpan[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly post: (message: FromHost) => void) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.buffer.push(serializeSpan(span));
    this.scheduled ??= setImmediate(() => this.flushNow());
  }

  flushNow(): void {
    if (this.scheduled !== undefined) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    if (this.buffer.length === 0) return;
    const spans = this.buffer;
    this.buffer = [];
    try {
      this.post({ t: 'spans', spans });
    } catch {
      // the channel is closing: these spans are lost with it
    }
  }

  forceFlush(): Promise<void> {
    this.flushNow();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.forceFlush();
  }
}

export async function installRemoteTracing(options: RemoteTracingOptions, post: (message: FromHost) => void, workerId: string): Promise<CallContextHook> {
  const forwarder = new ForwardingProcessor(post);
  await loadSdk({
    resource: { 'service.name': options.service_name, 'hsu.worker.id': workerId, 'hsu.deployment': isMainThread ? 'host' : 'thread', 'process.pid': process.pid },
    sampleRatio: options.sample_ratio,
    processors: () => [forwarder],
  });
  return otelCallContextHook({ flush: () => forwarder.flushNow() });
}
