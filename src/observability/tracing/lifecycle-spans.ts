/**
 * Spans for lifecycle operations, made from the master's events (the controller is not touched):
 * `hsu.worker.start` from `starting` to `running` (or its failure), `hsu.worker.stop` from
 * `stopping` to where it ended, and `hsu.worker.restart` from the restart decision until the
 * worker runs again, the parent of that start. Events carry the time of each transition, so a
 * span's times are the transitions' own, not when the event was delivered.
 */
import { ROOT_CONTEXT, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { StateChangeEvent } from '../../lifecycle/events.js';
import type { Master } from '../../master/master.js';

interface Open {
  start?: Span;
  stop?: Span;
  restart?: Span;
}

export class LifecycleSpans {
  private readonly open = new Map<string, Open>();
  private readonly offs: (() => void)[];

  constructor(
    master: Master,
    private readonly tracer: Tracer,
  ) {
    this.offs = [
      master.on('state', (e) => this.onState(e)),
      master.on('restart', (e) => {
        const spans = this.spans(e.worker_id);
        spans.restart?.end();
        spans.restart = this.tracer.startSpan('hsu.worker.restart', { attributes: { 'hsu.worker.id': e.worker_id, 'hsu.restart.cause': e.cause, 'hsu.restart.attempt': e.attempt, 'hsu.restart.delay_ms': e.delay_ms } });
      }),
      master.on('removed', (e) => this.endAll(e.worker_id, 'removed')),
    ];
  }

  /** Ends what is still open (the master shuts down mid-operation). */
  close(): void {
    for (const off of this.offs.splice(0)) off();
    for (const id of [...this.open.keys()]) this.endAll(id, 'tracing closed');
  }

  private onState(e: StateChangeEvent): void {
    const spans = this.spans(e.worker_id);
    const attributes = { 'hsu.worker.id': e.worker_id, ...(e.pid === null ? {} : { 'process.pid': e.pid }) };
    if (e.to === 'starting') {
      spans.start?.end(e.at);
      const parent = spans.restart === undefined ? undefined : trace.setSpan(ROOT_CONTEXT, spans.restart);
      spans.start = this.tracer.startSpan('hsu.worker.start', { startTime: e.at, attributes: { ...attributes, ...(e.reason === undefined ? {} : { 'hsu.reason': e.reason }) } }, parent);
      return;
    }
    if (e.to === 'stopping') {
      spans.stop?.end(e.at);
      spans.stop = this.tracer.startSpan('hsu.worker.stop', { startTime: e.at, attributes: { ...attributes, ...(e.cause === undefined ? {} : { 'hsu.stop.cause': e.cause }) } });
      // A stop during a start ends that start too (cancelled).
      if (spans.start !== undefined) this.finish(spans, 'start', e, false);
      return;
    }
    if (spans.stop !== undefined) this.finish(spans, 'stop', e, e.to !== 'failed');
    if (spans.start !== undefined) this.finish(spans, 'start', e, e.to === 'running');
    if (spans.restart !== undefined && (e.to === 'running' || e.to === 'failed' || e.to === 'stopped')) this.finish(spans, 'restart', e, e.to === 'running');
    if (spans.start === undefined && spans.stop === undefined && spans.restart === undefined) this.open.delete(e.worker_id);
  }

  private finish(spans: Open, which: keyof Open, e: StateChangeEvent, ok: boolean): void {
    const span = spans[which]!;
    span.setAttribute('hsu.state.to', e.to);
    if (e.pid !== null) span.setAttribute('process.pid', e.pid);
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: e.error?.message ?? e.reason ?? `ended in ${e.to}` });
    if (e.error !== undefined) span.setAttribute('error.type', e.error.code);
    span.end(e.at);
    delete spans[which];
  }

  private endAll(id: string, why: string): void {
    const spans = this.open.get(id);
    if (spans === undefined) return;
    for (const span of [spans.start, spans.stop, spans.restart]) {
      span?.setAttribute('hsu.incomplete', why);
      span?.end();
    }
    this.open.delete(id);
  }

  private spans(id: string): Open {
    let spans = this.open.get(id);
    if (spans === undefined) this.open.set(id, (spans = {}));
    return spans;
  }
}
