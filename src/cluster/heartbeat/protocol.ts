/** The messages between a master's main thread and its heartbeat thread (structured clone). */
import type { ConnectionEvent } from '../connection.js';
import type { ConnectSettings } from '../nats.js';
import type { NodeRecord, Origin } from '../records.js';

export interface HeartbeatSetup {
  readonly settings: ConnectSettings;
  readonly origin: Origin;
  readonly interval: number;
  readonly stall_limit: number;
  readonly started_at: number;
}

export type LeaseState = 'pending' | 'acquired' | 'refused' | 'lost';

/** Main → thread. */
export type ToHeartbeat =
  | { readonly t: 'put'; readonly key: string; readonly value: string }
  | { readonly t: 'delete'; readonly key: string }
  | { readonly t: 'pong'; readonly at: number }
  /** The main thread answers calls for this node now (or no longer): records may be published. */
  | { readonly t: 'serve'; readonly on: boolean }
  | { readonly t: 'stop' };

/** Thread → main. */
export type FromHeartbeat =
  | { readonly t: 'ping'; readonly at: number }
  | { readonly t: 'lease'; readonly state: LeaseState; readonly holder?: NodeRecord; readonly took_over?: boolean }
  | { readonly t: 'connection'; readonly event: ConnectionEvent }
  | { readonly t: 'beat'; readonly at: number; readonly entries: number; readonly loop_lag_ms: number; readonly stalled: boolean }
  | { readonly t: 'error'; readonly message: string; readonly code?: string }
  | { readonly t: 'stopped' };
