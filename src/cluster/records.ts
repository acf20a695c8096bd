/**
 * What masters write to the cluster's buckets: one record per served instance and one lease per
 * node. Everything read back is untrusted input (another version, another program, a typo in a
 * hand-made key): it is parsed with these schemas and a bad entry is skipped and counted.
 */
import * as z from 'zod';
import { endpointSchema, HEALTH_STATES, loadSchema } from '../mesh/registry/schema.js';
import type { ServiceInstance } from '../mesh/registry/schema.js';

export const RECORD_VERSION = 1;

export const instanceRecordSchema = z.object({
  v: z.literal(RECORD_VERSION),
  /** The id on its own node (`api#0`). */
  id: z.string().min(1).max(128),
  service: z.string().min(1).max(64),
  endpoint: endpointSchema,
  health: z.enum(HEALTH_STATES),
  version: z.string().min(1),
  weight: z.number().int().min(0).max(1000),
  load: loadSchema,
  metadata: z.record(z.string(), z.unknown()),
  registered_at: z.number(),
  node: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  session: z.string().min(1),
  /** The writer's TTL: a reader forgets the entry when no refresh came for this long. */
  ttl: z.number().positive(),
});

export type InstanceRecord = z.output<typeof instanceRecordSchema>;

export const nodeRecordSchema = z.object({
  v: z.literal(RECORD_VERSION),
  node: z.string().min(1),
  cluster: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  session: z.string().min(1),
  started_at: z.number(),
  heartbeat_at: z.number(),
  /** How late the main thread answered the heartbeat thread's last ping: the master's event-loop health. */
  loop_lag_ms: z.number().min(0),
  ttl: z.number().positive(),
});

export type NodeRecord = z.output<typeof nodeRecordSchema>;

export interface Origin {
  readonly node: string;
  readonly host: string;
  readonly pid: number;
  readonly session: string;
  readonly ttl: number;
}

export function toRecord(instance: ServiceInstance, origin: Origin): InstanceRecord {
  return {
    v: RECORD_VERSION,
    id: instance.id,
    service: instance.service,
    endpoint: { type: instance.endpoint.type, address: instance.endpoint.address, ...(instance.endpoint.metadata === undefined ? {} : { metadata: { ...instance.endpoint.metadata } }) },
    health: instance.health,
    version: instance.version,
    weight: instance.weight,
    load: { ...instance.load },
    metadata: { ...instance.metadata },
    registered_at: instance.registered_at,
    node: origin.node,
    host: origin.host,
    pid: origin.pid,
    session: origin.session,
    ttl: origin.ttl,
  };
}

const decoder = new TextDecoder();

/** Parses a bucket value; undefined when it is not a record of this version. */
export function parseRecord<S extends z.ZodType>(schema: S, bytes: Uint8Array): z.output<S> | undefined {
  try {
    const result = schema.safeParse(JSON.parse(decoder.decode(bytes)));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
