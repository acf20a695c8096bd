/**
 * The main thread's side of the heartbeat thread: sends it every record change, answers its pings
 * (which is how it measures this event loop's lag) and reports its lease and connection events.
 * A thread that dies is started again after a second; `stop()` deletes this master's records and
 * gives the node name back before the thread ends.
 */
import { Worker } from 'node:worker_threads';
import type { ConnectionEvent } from '../connection.js';
import type { FromHeartbeat, HeartbeatSetup, LeaseState, ToHeartbeat } from './protocol.js';
import type { NodeRecord } from '../records.js';

export interface HeartbeatEvents {
  readonly lease: (state: LeaseState, detail: { holder?: NodeRecord; took_over?: boolean }) => void;
  readonly connection: (event: ConnectionEvent) => void;
  readonly error: (message: string, code?: string) => void;
  readonly beat?: (beat: Extract<FromHeartbeat, { t: 'beat' }>) => void;
}

const RESPAWN_MS = 1_000;
const STOP_GRACE_MS = 5_000;

export class Heartbeat {
  private thread: Worker | undefined;
  private readonly entries = new Map<string, string>();
  private respawn: NodeJS.Timeout | undefined;
  private stopped = false;
  private serving = false;
  private stopping: Promise<void> | undefined;
  private onStopped: (() => void) | undefined;
  /** The last beat the thread reported (for diagnostics). */
  last: Extract<FromHeartbeat, { t: 'beat' }> | undefined;
  lease: LeaseState = 'pending';

  constructor(
    private readonly setup: HeartbeatSetup,
    private readonly events: HeartbeatEvents,
  ) {}

  start(): void {
    if (this.stopped || this.thread !== undefined) return;
    const thread = new Worker(new URL('./heartbeat-thread.js', import.meta.url), { workerData: this.setup, name: 'hsu-heartbeat' });
    this.thread = thread;
    thread.on('message', (message: FromHeartbeat) => this.receive(message));
    // Whatever was registered before the thread existed (NATS down at start), or held by one that died.
    for (const [key, value] of this.entries) this.send({ t: 'put', key, value });
    if (this.serving) this.send({ t: 'serve', on: true });
    thread.on('error', (err) => this.events.error(`heartbeat thread failed: ${err.message}`));
    thread.on('exit', () => {
      this.thread = undefined;
      this.onStopped?.();
      if (this.stopped) return;
      // Records and lease live on: a new thread takes them over with the same session.
      this.respawn = setTimeout(() => {
        this.respawn = undefined;
        this.start();
      }, RESPAWN_MS);
    });
  }

  put(key: string, value: string): void {
    this.entries.set(key, value);
    this.send({ t: 'put', key, value });
  }

  delete(key: string): void {
    if (!this.entries.delete(key)) return;
    this.send({ t: 'delete', key });
  }

  /** Records may be published (the responder listens) or must not be refreshed any more. */
  serve(on: boolean): void {
    this.serving = on;
    this.send({ t: 'serve', on });
  }

  /** Deletes this master's records, releases the node name, ends the thread (bounded). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.respawn);
    const thread = this.thread;
    if (thread === undefined) return;
    const exited = new Promise<void>((resolve) => {
      this.onStopped = resolve;
    });
    this.send({ t: 'stop' });
    const grace = setTimeout(() => void thread.terminate(), STOP_GRACE_MS);
    await exited;
    clearTimeout(grace);
  }

  private receive(message: FromHeartbeat): void {
    switch (message.t) {
      case 'ping':
        this.send({ t: 'pong', at: message.at });
        break;
      case 'lease':
        this.lease = message.state;
        this.events.lease(message.state, { ...(message.holder === undefined ? {} : { holder: message.holder }), ...(message.took_over === undefined ? {} : { took_over: message.took_over }) });
        break;
      case 'connection':
        this.events.connection(message.event);
        break;
      case 'beat':
        this.last = message;
        this.events.beat?.(message);
        break;
      case 'error':
        this.events.error(message.message, message.code);
        break;
      case 'stopped':
        break;
    }
  }

  private send(message: ToHeartbeat): void {
    this.thread?.postMessage(message);
  }
}
