/**
 * The mesh's part of a worker's config, for the lead to spread into the worker schema: where the
 * worker's replicas are registered (`service:`), how calls to them are balanced (`balancer:`) and
 * protected (`resilience:`), and how many run (`autoscale:`). `instances:` stays the worker's.
 * Autoscaling on `inflight_per_replica` turns on the balancer's in-flight counting.
 */
import * as z from 'zod';
import { autoscaleSchema } from './autoscaler/schema.js';
import { balancerSchema } from './balancers/schema.js';
import { serviceBlockSchema } from './registry/schema.js';
import { resilienceSchema } from './resilience/schema.js';

export const meshServiceSchema = z
  .strictObject({
    service: serviceBlockSchema.optional(),
    balancer: balancerSchema.optional(),
    resilience: resilienceSchema.optional(),
    autoscale: autoscaleSchema.optional(),
  })
  .transform((block) => {
    // Scaling on calls in flight needs the balancer to count them.
    if (block.autoscale?.metric !== 'inflight_per_replica') return block;
    const balancer = block.balancer ?? { strategy: 'round_robin' as const, track_in_flight: true };
    return { ...block, balancer: { ...balancer, track_in_flight: true } };
  });

export type MeshServiceConfig = z.output<typeof meshServiceSchema>;
export type MeshServiceConfigInput = z.input<typeof meshServiceSchema>;
