/**
 * The serving side of remote calls: one subscription on this node's call subject, each request
 * run through the master's own `call(instanceId, ...)` with the caller's time left and an abort
 * signal that a cancel message (or the deadline) fires. Replies carry a value or a serialized
 * error; a reply too large for the server becomes a coded error instead of silence.
 */
import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/transport-node';
import { hsuError } from '../../errors.js';
import { NO_OPTIONS, type CallRequestOptions } from '../../mesh/call.js';
import type { ClusterNames } from '../keys.js';
import { decodeCall, encodeError, encodeResult } from './codec.js';

export type LocalCall = (instanceId: string, action: string, input: unknown, options: CallRequestOptions) => Promise<unknown>;

/** Runs a call inside the trace context its headers carry (the master's tracing, src/master/cluster-link.ts). */
export type WithTrace = (headers: Readonly<Record<string, string>>, run: () => Promise<unknown>) => Promise<unknown>;

export interface CallResponderOptions {
  readonly names: ClusterNames;
  readonly node: string;
  readonly call: LocalCall;
  readonly with_trace?: WithTrace;
}

export class CallResponder {
  /** Calls in flight by reply subject; a controller only for those the caller may cancel. */
  private readonly running = new Map<string, AbortController | undefined>();
  private calls: Subscription | undefined;
  private cancels: Subscription | undefined;
  private nc: NatsConnection | undefined;
  private idle: (() => void) | undefined;
  served = 0;

  constructor(private readonly options: CallResponderOptions) {}

  get inFlight(): number {
    return this.running.size;
  }

  /** Subscribes; call before this master's records are published, so a listed instance is answered. */
  start(nc: NatsConnection): void {
    if (this.calls !== undefined) return;
    this.nc = nc;
    this.calls = nc.subscribe(this.options.names.callSubject(this.options.node), { callback: (err, msg) => (err === null ? this.serve(msg) : undefined) });
    this.cancels = nc.subscribe(this.options.names.cancelSubject(this.options.node), {
      callback: (err, msg) => {
        if (err === null) this.running.get(msg.string())?.abort(hsuError('CALL_ABORTED', 'the remote caller gave up on this call', { remote: true }));
      },
    });
  }

  /** Takes no new calls, lets those in flight finish for `graceMs`, then aborts the rest. */
  async stop(graceMs = 5_000): Promise<void> {
    this.calls?.unsubscribe();
    this.calls = undefined;
    if (this.running.size > 0) {
      const drained = new Promise<void>((resolve) => {
        this.idle = resolve;
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
      clearTimeout(timer);
      for (const controller of this.running.values()) controller?.abort(hsuError('CALL_INTERRUPTED', 'the master serving this call is shutting down', {}));
    }
    this.idle = undefined;
    this.cancels?.unsubscribe();
    this.cancels = undefined;
    this.nc = undefined;
  }

  private serve(msg: Msg): void {
    const reply = msg.reply;
    if (reply === undefined || reply === '') return; // nobody waits for an answer
    let instanceId: string, action: string, input: unknown, timeout: number, cancellable: 0 | 1;
    try {
      [instanceId, action, input, timeout, cancellable] = decodeCall(msg.data);
    } catch (err) {
      this.respond(reply, encodeError(err));
      return;
    }
    // An AbortController per call costs more than the rest of the call: only when the caller can cancel.
    const controller = cancellable === 1 ? new AbortController() : undefined;
    this.running.set(reply, controller);
    const options: CallRequestOptions =
      controller === undefined ? (timeout > 0 ? { timeout } : NO_OPTIONS) : timeout > 0 ? { timeout, signal: controller.signal } : { signal: controller.signal };
    const run = (): Promise<unknown> => this.options.call(instanceId, action, input, options);
    const trace = this.options.with_trace === undefined || msg.headers === undefined ? undefined : headerRecord(msg.headers);
    let pending: Promise<unknown>;
    try {
      pending = trace === undefined ? run() : (this.options.with_trace as WithTrace)(trace, run);
    } catch (err) {
      pending = Promise.reject(err as Error);
    }
    pending.then(
      (value) => this.finish(reply, encodeResult(value)),
      (err: unknown) => this.finish(reply, encodeError(err)),
    );
  }

  private finish(reply: string, data: Uint8Array): void {
    this.running.delete(reply);
    this.served++;
    this.respond(reply, data);
    if (this.running.size === 0) this.idle?.();
  }

  private respond(reply: string, data: Uint8Array): void {
    const nc = this.nc;
    if (nc === undefined || nc.isClosed()) return;
    const max = nc.info?.max_payload ?? Infinity;
    const body = data.length <= max ? data : encodeError(hsuError('CLUSTER_PAYLOAD_TOO_LARGE', `the result is ${data.length} bytes encoded; the NATS server accepts at most ${max}`, { size: data.length, max_payload: max }));
    try {
      nc.publish(reply, body);
    } catch {
      // disconnected: the caller fails fast on its side
    }
  }
}

function headerRecord(headers: MsgHdrs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of headers.keys()) out[key] = headers.get(key);
  return out;
}
