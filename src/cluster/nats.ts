/**
 * The one place NATS code is loaded: on first use, by dynamic import, so a master without a
 * `cluster:` block (and anything importing src/cluster for its schema) loads none of it. Also the
 * client options every connection of a master shares (auth, TLS, reconnect forever with backoff).
 */
import { readFileSync } from 'node:fs';
import type * as Core from '@nats-io/transport-node';
import type * as JetStream from '@nats-io/jetstream';
import type * as Kv from '@nats-io/kv';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { hsuError } from '../errors.js';
import { serverList, type ClusterConfig } from './config.js';

export interface NatsModules {
  readonly core: typeof Core;
  readonly js: typeof JetStream;
  readonly kv: typeof Kv;
}

let modules: Promise<NatsModules> | undefined;

export function loadNats(): Promise<NatsModules> {
  modules ??= Promise.all([import('@nats-io/transport-node'), import('@nats-io/jetstream'), import('@nats-io/kv')]).then(([core, js, kv]) => ({ core, js, kv }));
  return modules;
}

/** What a connection needs from the `cluster:` block; plain data, so it also crosses into the heartbeat thread. */
export type ConnectSettings = Pick<ClusterConfig, 'servers' | 'token' | 'user' | 'password' | 'credentials' | 'tls' | 'reconnect' | 'name' | 'node'>;

/** Full jitter over a doubling delay: `attempt` 0 waits up to `initial`, capped at `max`. */
export function backoffDelay(attempt: number, initial: number, max: number, random: () => number = Math.random): number {
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * Client options for one connection. The client reconnects forever on its own once connected;
 * `attempts` counts its tries so the delay grows, and is reset by the caller on reconnect.
 */
/** The headers factory of the client (for code that holds the modules already). */
export type HeadersFactory = typeof Core.headers;

export async function clientOptions(settings: ConnectSettings, label: string, attempts: { count: number }): Promise<NodeConnectionOptions> {
  const { core } = await loadNats();
  const options: NodeConnectionOptions = {
    servers: serverList(settings),
    name: `hsu ${settings.name}/${settings.node} ${label}`,
    maxReconnectAttempts: -1,
    reconnectDelayHandler: () => backoffDelay(attempts.count++, settings.reconnect.initial, settings.reconnect.max),
    // A cut-off server is noticed within a few seconds, not the default two minutes.
    pingInterval: 2_000,
    maxPingOut: 2,
    ignoreClusterUpdates: false,
  };
  if (settings.token !== undefined) options.token = settings.token;
  if (settings.user !== undefined) {
    options.user = settings.user;
    if (settings.password !== undefined) options.pass = settings.password;
  }
  if (settings.credentials !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(settings.credentials);
    } catch (err) {
      throw hsuError('CONFIG_INVALID', `cluster.credentials: cannot read ${settings.credentials}: ${(err as Error).message}`, { path: 'cluster.credentials', file: settings.credentials });
    }
    options.authenticator = core.credsAuthenticator(creds);
  }
  if (settings.tls !== undefined) {
    options.tls = {
      ...(settings.tls.ca === undefined ? {} : { caFile: settings.tls.ca }),
      ...(settings.tls.cert === undefined ? {} : { certFile: settings.tls.cert }),
      ...(settings.tls.key === undefined ? {} : { keyFile: settings.tls.key }),
    };
  }
  return options;
}
