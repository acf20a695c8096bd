/**
 * The `cluster:` block of the master section: where NATS is, how to authenticate, what this
 * master is called in the cluster and how quickly a silent master is forgotten. Zod is the single
 * source of the type; it is the optional `master.cluster` key of the master schema. Importing this file
 * loads nothing of NATS.
 * @example
 * cluster:
 *   name: prod
 *   node: web-1
 *   servers: [nats://10.0.0.5:4222, nats://10.0.0.6:4222]
 *   token: ${NATS_TOKEN}
 *   heartbeat_interval: 1s
 *   ttl: 5s
 *   prefer_local: true
 */
import os from 'node:os';
import * as z from 'zod';
import { durationSchema } from '../config/duration.js';
import { parseBlock } from '../mesh/config.js';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_HINT = 'expected 1-64 of [A-Za-z0-9_-]';

const positive = durationSchema.refine((ms) => ms > 0, 'must be greater than 0');

/** This machine's host name as a node name: characters NATS keys cannot carry become '-'. */
export function defaultNodeName(): string {
  const name = os.hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64);
  return name.length > 0 ? name : 'node';
}

export const clusterTlsSchema = z.strictObject({
  /** CA bundle (PEM file) the server's certificate must chain to. */
  ca: z.string().min(1).optional(),
  /** Client certificate and key (PEM files), for servers that verify clients. */
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
});

export const clusterSchema = z
  .strictObject({
    /** Masters with the same cluster name see each other; buckets and subjects carry it. */
    name: z.string().regex(NAME, NAME_HINT).default('hsu'),
    /** This master's name in the cluster: unique among live masters (a second one is refused). Default: the host name. */
    node: z.string().regex(NAME, NAME_HINT).optional(),
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default(['nats://127.0.0.1:4222']),
    /** Exactly one way to authenticate, or none. */
    token: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** A NATS `.creds` file (JWT + NKey seed). */
    credentials: z.string().min(1).optional(),
    tls: clusterTlsSchema.optional(),
    /** How often this master refreshes its entries (from a thread of its own, whatever the event loop does). */
    heartbeat_interval: positive.default(1_000),
    /** A master silent this long is gone: its services leave every registry. */
    ttl: positive.default(5_000),
    /** Call replicas on this master while any is healthy; others only when none is. */
    prefer_local: z.boolean().default(true),
    /** Deadline of a remote call that has none of its own. */
    request_timeout: positive.default(30_000),
    /** The heartbeat thread stops vouching for a main thread that has not answered for this long. */
    stall_limit: positive.default(60_000),
    /** Reconnect backoff to NATS: doubling from `initial` to `max`, with full jitter; forever. */
    reconnect: z.strictObject({ initial: positive.default(250), max: positive.default(5_000) }).prefault({}),
  })
  .superRefine((value, ctx) => {
    const ways = [value.token !== undefined, value.user !== undefined || value.password !== undefined, value.credentials !== undefined].filter(Boolean).length;
    if (ways > 1) ctx.addIssue({ code: 'custom', path: [], message: 'set at most one of token, user + password, credentials' });
    if ((value.user === undefined) !== (value.password === undefined)) {
      ctx.addIssue({ code: 'custom', path: [value.user === undefined ? 'user' : 'password'], message: 'user and password go together' });
    }
    if (value.ttl < 2 * value.heartbeat_interval) {
      ctx.addIssue({ code: 'custom', path: ['ttl'], message: `must be at least twice heartbeat_interval (${value.heartbeat_interval} ms) so that one late heartbeat does not drop a live master, got ${value.ttl} ms` });
    }
    if (value.reconnect.max < value.reconnect.initial) ctx.addIssue({ code: 'custom', path: ['reconnect', 'max'], message: `must be >= reconnect.initial (${value.reconnect.initial} ms)` });
    if ((value.tls?.cert === undefined) !== (value.tls?.key === undefined)) ctx.addIssue({ code: 'custom', path: ['tls'], message: 'cert and key go together' });
  });

export type ClusterConfigInput = z.input<typeof clusterSchema>;
/** The parsed block; `node` is filled in by {@link parseClusterConfig}. */
export type ClusterConfig = z.output<typeof clusterSchema> & { readonly node: string };

/** Validates a `cluster:` block (CONFIG_INVALID with located issues under `where`) and names the node. */
export function parseClusterConfig(input: unknown, where = 'master.cluster'): ClusterConfig {
  const parsed = parseBlock(clusterSchema, input, where);
  return { ...parsed, node: parsed.node ?? defaultNodeName() };
}

/** The servers as a list. */
export function serverList(config: Pick<ClusterConfig, 'servers'>): string[] {
  return typeof config.servers === 'string' ? [config.servers] : [...config.servers];
}
