/**
 * One NATS connection that never gives up: the first connect is retried with jittered backoff in
 * the background (NATS down at start: the master runs locally meanwhile), and once connected the
 * client reconnects forever. Every change is an event (`connecting`, `connected`, `disconnected`,
 * `reconnected`, `closed`), so the master can say what happens.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { hsuError } from '../errors.js';
import { backoffDelay, clientOptions, loadNats, type ConnectSettings } from './nats.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closed';

export type ConnectionEvent =
  | { readonly type: 'connecting'; readonly attempt: number; readonly error?: string; readonly retry_in_ms?: number }
  | { readonly type: 'connected'; readonly server: string }
  | { readonly type: 'disconnected'; readonly server: string }
  | { readonly type: 'reconnected'; readonly server: string }
  | { readonly type: 'closed' };

export class ClusterConnection {
  private state: ConnectionState = 'connecting';
  private connection: NatsConnection | undefined;
  private readonly listeners = new Set<(event: ConnectionEvent) => void>();
  private readonly attempts = { count: 0 };
  private retryTimer: NodeJS.Timeout | undefined;
  private waiters: { resolve: (nc: NatsConnection) => void; reject: (error: Error) => void }[] = [];
  private statusLoop: Promise<void> | undefined;
  private started = false;

  constructor(
    private readonly settings: ConnectSettings,
    private readonly label: string,
  ) {}

  get status(): ConnectionState {
    return this.state;
  }

  /** The live connection, or undefined while not connected (never connected, or reconnecting). */
  get nc(): NatsConnection | undefined {
    return this.state === 'connected' ? this.connection : undefined;
  }

  /** The connection, connected or reconnecting: subscriptions made on it survive reconnects. */
  get any(): NatsConnection | undefined {
    return this.connection;
  }

  on(listener: (event: ConnectionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts connecting (once); resolves after the first attempt, whatever its outcome. */
  start(): Promise<boolean> {
    if (this.started) return Promise.resolve(this.connection !== undefined);
    this.started = true;
    return this.attempt(0);
  }

  /** Resolves with the connection once it is first established; rejects with CLUSTER_CLOSED on close. */
  ready(): Promise<NatsConnection> {
    if (this.connection !== undefined) return Promise.resolve(this.connection);
    if (this.state === 'closed') return Promise.reject(hsuError('CLUSTER_CLOSED', 'the cluster connection is closed'));
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Flushes what was published, then closes; ends the retry timer and the status loop. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter.reject(hsuError('CLUSTER_CLOSED', 'the cluster connection was closed before it connected'));
    const nc = this.connection;
    if (nc !== undefined && !nc.isClosed()) {
      await nc.drain().catch(() => nc.close());
      await nc.closed();
      // The client destroys its socket; the handle is released in this loop turn's close phase.
      await new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
    }
    await this.statusLoop;
    this.emit({ type: 'closed' });
    this.listeners.clear();
  }

  private async attempt(attempt: number): Promise<boolean> {
    if (this.state === 'closed') return false;
    this.emit({ type: 'connecting', attempt });
    try {
      const { core } = await loadNats();
      const nc = await core.connect(await clientOptions(this.settings, this.label, this.attempts));
      if (this.isClosed()) {
        await nc.close();
        return false;
      }
      this.connection = nc;
      this.state = 'connected';
      this.statusLoop = this.watch(nc);
      this.emit({ type: 'connected', server: nc.getServer() });
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter.resolve(nc);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'HSU_ERR_CONFIG_INVALID') throw err;
      if (this.isClosed()) return false;
      const delay = backoffDelay(attempt, this.settings.reconnect.initial, this.settings.reconnect.max);
      this.emit({ type: 'connecting', attempt, error: (err as Error).message, retry_in_ms: delay });
      this.retryTimer = setTimeout(() => void this.attempt(attempt + 1), delay);
      return false;
    }
  }

  /** Read through a method: close() may run while an attempt awaits. */
  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private async watch(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.state === 'closed') break;
      if (status.type === 'disconnect') {
        this.state = 'disconnected';
        this.emit({ type: 'disconnected', server: status.server });
      } else if (status.type === 'reconnect') {
        this.state = 'connected';
        this.attempts.count = 0;
        this.emit({ type: 'reconnected', server: status.server });
      }
    }
  }

  private emit(event: ConnectionEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own; the connection's events go on
      }
    }
  }
}
