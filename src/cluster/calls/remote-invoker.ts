/**
 * Calls to instances on other masters: NATS request/reply on the target node's subject
 * (`hsu.<cluster>.call.<node>`), replies multiplexed on one inbox subscription. Deadlines and
 * aborts are carried both ways (the remote side gets the time left and a cancel message), a
 * payload over the server's max_payload fails at once, and while NATS is unreachable every remote
 * call fails fast with CLUSTER_UNAVAILABLE (calls in flight too: their replies would be lost).
 */
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { deserializeError, hsuError } from '../../errors.js';
import type { CallRequestOptions } from '../../mesh/call.js';
import type { ServiceInstance } from '../../mesh/registry/schema.js';
import type { ClusterConnection } from '../connection.js';
import { localIdOf, type ClusterNames } from '../keys.js';
import { loadNats, type HeadersFactory } from '../nats.js';
import { decodeReply, encodeCall } from './codec.js';

/** Opaque trace context (the master's tracing fills it, src/master/cluster-link.ts): headers sent with every remote call. */
export type TraceHeaders = () => Readonly<Record<string, string>> | undefined;

export interface RemoteInvokerOptions {
  readonly connection: ClusterConnection;
  readonly names: ClusterNames;
  /** Deadline of a call without its own. */
  readonly request_timeout: number;
  readonly trace?: TraceHeaders;
  /** Told when a node has no responder (gone, or cut off): the registry stops picking it. */
  readonly on_unreachable?: (node: string) => void;
}

interface Pending {
  readonly node: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Only for a call with its own timeout; calls under the default deadline are swept. */
  readonly timer: NodeJS.Timeout | undefined;
  readonly deadline: number;
  readonly timeout: number;
  readonly reply: string;
  readonly describe: string;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: (() => void) | undefined;
}

const NO_RESPONDERS = 503;

export class RemoteInvoker {
  private readonly pending = new Map<string, Pending>();
  private readonly options: RemoteInvokerOptions;
  private inbox: Subscription | undefined;
  private prefix = '';
  private sequence = 0;
  private closed = false;
  private readonly unlisten: () => void;
  private headers: HeadersFactory | undefined;
  /** One timer for every call under the default deadline (a timer per call would cost more than the call's bookkeeping). */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(options: RemoteInvokerOptions) {
    this.options = options;
    this.unlisten = options.connection.on((event) => {
      if (event.type === 'disconnected') this.failAll('the connection to NATS was lost while the call was in flight; its outcome is unknown');
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Subscribes the reply inbox; needs the connection once (the subscription survives reconnects). */
  async start(nc: NatsConnection): Promise<void> {
    const { core } = await loadNats();
    this.headers = core.headers;
    this.prefix = `_INBOX.hsu.${core.nuid.next()}`;
    const offset = this.prefix.length + 1;
    this.inbox = nc.subscribe(`${this.prefix}.*`, { callback: (err, msg) => (err === null ? this.settle(msg.subject.slice(offset), msg) : undefined) });
  }

  /** The router's `invoke` for an instance on another node. */
  readonly invoke = (instance: ServiceInstance, action: string, input: unknown, options: CallRequestOptions): Promise<unknown> => {
    const nc = this.options.connection.nc;
    if (this.closed) return Promise.reject(hsuError('CLUSTER_CLOSED', 'the cluster connection of this master is closed', { node: instance.node }));
    if (nc === undefined || this.inbox === undefined) {
      return Promise.reject(hsuError('CLUSTER_UNAVAILABLE', `cannot call ${instance.id}: NATS is not reachable from this master`, { node: instance.node, instance_id: instance.id, service: instance.service }));
    }
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    const own = options.timeout;
    const timeout = own ?? this.options.request_timeout;
    let data: Uint8Array;
    try {
      // The remote side gets the caller's own deadline (its call is bounded by it) and knows whether a cancel may come.
      data = encodeCall(localIdOf(instance.id, instance.node), action, input, own ?? 0, signal !== undefined || own !== undefined);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const max = nc.info?.max_payload ?? Infinity;
    if (data.length > max) {
      return Promise.reject(hsuError('CLUSTER_PAYLOAD_TOO_LARGE', `the input of ${instance.service}.${action} is ${data.length} bytes encoded; the NATS server accepts at most ${max}`, { size: data.length, max_payload: max, instance_id: instance.id }));
    }
    const token = (this.sequence++).toString(36);
    const reply = `${this.prefix}.${token}`;
    const node = instance.node;
    const describe = `${instance.service}.${action}`;
    return new Promise((resolve, reject) => {
      const timer = own === undefined ? undefined : setTimeout(() => this.expire(token), own);
      if (timer === undefined) this.sweep();
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.cancel(token);
              reject(signal.reason as Error);
            };
      this.pending.set(token, { node, resolve, reject, timer, deadline: Date.now() + timeout, timeout, reply, describe, signal, onAbort });
      if (onAbort !== undefined) signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const trace = this.options.trace?.();
        nc.publish(this.options.names.callSubject(node), data, { reply, ...(trace === undefined ? {} : { headers: this.toHeaders(trace) }) });
      } catch (err) {
        this.drop(token);
        reject(hsuError('CLUSTER_UNAVAILABLE', `cannot call ${instance.id}: ${(err as Error).message}`, { node, instance_id: instance.id }, err));
      }
    });
  };

  /** Ends the inbox; calls in flight fail with CLUSTER_CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unlisten();
    this.failAll('the cluster connection of this master was closed', 'CLUSTER_CLOSED');
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.inbox?.unsubscribe();
    this.inbox = undefined;
  }

  private settle(token: string, msg: Msg): void {
    const entry = this.drop(token);
    if (entry === undefined) return; // answered after its timeout or abort
    if (msg.data.length === 0 && msg.headers?.code === NO_RESPONDERS) {
      this.options.on_unreachable?.(entry.node);
      entry.reject(hsuError('CLUSTER_NODE_UNREACHABLE', `no master answers for node ${entry.node}: it is gone or not serving`, { node: entry.node }));
      return;
    }
    try {
      const frame = decodeReply(msg.data);
      if (frame[0] === 1) entry.resolve(frame[1]);
      else entry.reject(deserializeError(frame[1]));
    } catch (err) {
      entry.reject(err);
    }
  }

  private drop(token: string): Pending | undefined {
    const entry = this.pending.get(token);
    if (entry === undefined) return undefined;
    this.pending.delete(token);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (this.pending.size === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    return entry;
  }

  /** The caller gave up: forget the call and tell the remote side to abort it. */
  private cancel(token: string): Pending | undefined {
    const entry = this.drop(token);
    if (entry === undefined) return undefined;
    try {
      this.options.connection.nc?.publish(this.options.names.cancelSubject(entry.node), entry.reply);
    } catch {
      // best effort: the remote side also has the deadline
    }
    return entry;
  }

  private expire(token: string): void {
    const entry = this.cancel(token);
    if (entry === undefined) return;
    entry.reject(hsuError('CALL_TIMEOUT', `remote call ${entry.describe} on ${entry.node} timed out after ${entry.timeout} ms`, { scope: 'call', timeout_ms: entry.timeout, node: entry.node }));
  }

  /** Starts the sweeper of default deadlines (unref'd; stopped when nothing is pending). */
  private sweep(): void {
    if (this.sweeper !== undefined) return;
    const every = Math.max(10, Math.min(1_000, this.options.request_timeout / 10));
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const [token, entry] of this.pending) if (entry.timer === undefined && entry.deadline <= now) this.expire(token);
    }, every);
    this.sweeper.unref();
  }

  private failAll(message: string, code: 'CLUSTER_UNAVAILABLE' | 'CLUSTER_CLOSED' = 'CLUSTER_UNAVAILABLE'): void {
    for (const token of [...this.pending.keys()]) {
      const entry = this.drop(token);
      entry?.reject(hsuError(code, message, { node: entry.node, phase: 'in_flight' }));
    }
  }

  private toHeaders(trace: Readonly<Record<string, string>>): ReturnType<HeadersFactory> | undefined {
    const entries = Object.entries(trace);
    if (entries.length === 0 || this.headers === undefined) return undefined;
    const h = this.headers();
    for (const [key, value] of entries) h.set(key, value);
    return h;
  }
}
