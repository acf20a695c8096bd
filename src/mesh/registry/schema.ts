/**
 * The shapes of the registry, zod first: what may be registered (from the master, from a module,
 * or from outside with a TTL), the snapshot every lookup returns, and the YAML `service:` block.
 */
import * as z from 'zod';
import { durationSchema } from '../../config/duration.js';

export const ENDPOINT_TYPES = ['function', 'thread', 'ipc', 'url'] as const;
export const HEALTH_STATES = ['healthy', 'unhealthy', 'unknown'] as const;
export const MAX_WEIGHT = 1_000;

/** Service names follow worker ids; instance ids may also carry `#n` (replica), `/` (node) and `@`, `.`, `:`. */
export const serviceNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 of [A-Za-z0-9_-]');
export const instanceIdSchema = z.string().regex(/^[A-Za-z0-9_.:#@/-]{1,128}$/, 'expected 1-128 of [A-Za-z0-9_.:#@/-]');

export const endpointSchema = z.strictObject({
  type: z.enum(ENDPOINT_TYPES),
  address: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export const loadSchema = z.strictObject({
  inflight: z.number().min(0).optional(),
  queue_depth: z.number().min(0).optional(),
  cpu_percent: z.number().min(0).optional(),
  memory_bytes: z.number().min(0).optional(),
});

const weightSchema = z.number().int().min(0).max(MAX_WEIGHT);

/** What `register()` accepts. Unset fields get defaults: health unknown, weight 1, version '0.0.0'. */
export const instanceInputSchema = z.strictObject({
  id: instanceIdSchema,
  service: serviceNameSchema,
  endpoint: endpointSchema,
  health: z.enum(HEALTH_STATES).default('unknown'),
  version: z.string().min(1).default('0.0.0'),
  node: z.string().min(1).default('local'),
  /** Share of traffic for the weighted strategy and of ring points for consistent hashing; 0 drains. */
  weight: weightSchema.default(1),
  load: loadSchema.default({}),
  metadata: z.record(z.string(), z.unknown()).default({}),
  /** Entries registered from outside expire unless refreshed by `heartbeat()` within this time. */
  ttl: durationSchema.refine((ms) => ms > 0, 'expected a duration greater than 0').optional(),
});

/** What `update()` accepts: any field but the identity. */
export const instancePatchSchema = z.strictObject({
  endpoint: endpointSchema.optional(),
  health: z.enum(HEALTH_STATES).optional(),
  version: z.string().min(1).optional(),
  weight: weightSchema.optional(),
  load: loadSchema.optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The YAML `service:` block of a worker: under which name its replicas are registered and how.
 * @example
 * service: { name: orders, version: 2.1.0, weight: 2, metadata: { zone: a } }
 */
export const serviceBlockSchema = z.strictObject({
  name: serviceNameSchema.optional(),
  version: z.string().min(1).optional(),
  weight: weightSchema.default(1),
  metadata: z.record(z.string(), z.unknown()).default({}),
  /** For a process that serves HTTP itself: where it listens (`{port}` is replaced per replica by the master). */
  endpoint: endpointSchema.optional(),
});

export type EndpointType = (typeof ENDPOINT_TYPES)[number];
export type HealthState = (typeof HEALTH_STATES)[number];
export type Endpoint = z.output<typeof endpointSchema>;
export type InstanceLoad = z.output<typeof loadSchema>;
export type InstanceInput = z.input<typeof instanceInputSchema>;
export type InstancePatch = z.input<typeof instancePatchSchema>;
export type ServiceBlock = z.output<typeof serviceBlockSchema>;
export type ServiceBlockInput = z.input<typeof serviceBlockSchema>;

/** A registered instance: an immutable snapshot (every change makes a new one). */
export interface ServiceInstance {
  readonly id: string;
  readonly service: string;
  readonly endpoint: Readonly<Endpoint>;
  readonly health: HealthState;
  readonly version: string;
  readonly node: string;
  readonly weight: number;
  readonly load: Readonly<InstanceLoad>;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly registered_at: number;
  readonly updated_at: number;
  /** Set for TTL entries: the instance is removed (reason `expired`) once the clock passes it. */
  readonly expires_at?: number;
  readonly ttl?: number;
}
