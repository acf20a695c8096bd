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

/** Opaque trace context (the observability issue fills it): headers sent with every remote call. */
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
  readonly timer: NodeJS.Timeout;
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
    const timeout = options.timeout ?? this.options.request_timeout;
    let data: Uint8Array;
    try {
      data = encodeCall(localIdOf(instance.id, instance.node), action, input, timeout);
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
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cancel(token, reply, node);
        reject(hsuError('CALL_TIMEOUT', `remote call ${instance.service}.${action} on ${node} timed out after ${timeout} ms`, { scope: 'call', timeout_ms: timeout, node, instance_id: instance.id }));
      }, timeout);
      const onAbort =
        signal === undefined
          ? undefined
          : (): void => {
              this.cancel(token, reply, node);
              reject(signal.reason as Error);
            };
      this.pending.set(token, { node, resolve, reject, timer, signal, onAbort });
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
    clearTimeout(entry.timer);
    if (entry.onAbort !== undefined) entry.signal?.removeEventListener('abort', entry.onAbort);
    return entry;
  }

  /** The caller gave up: forget the call and tell the remote side to abort it. */
  private cancel(token: string, reply: string, node: string): void {
    if (this.drop(token) === undefined) return;
    try {
      this.options.connection.nc?.publish(this.options.names.cancelSubject(node), reply);
    } catch {
      // best effort: the remote side also has the deadline
    }
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
