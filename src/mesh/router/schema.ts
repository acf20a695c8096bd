/** How one service is routed: its `balancer:` and `resilience:` blocks, as the router takes them. */
import * as z from 'zod';
import { balancerSchema } from '../balancers/schema.js';
import { resilienceSchema } from '../resilience/schema.js';

export const serviceRouteSchema = z.strictObject({
  balancer: balancerSchema.prefault({ strategy: 'round_robin' }),
  resilience: resilienceSchema.prefault({}),
});

export type ServiceRouteConfig = z.output<typeof serviceRouteSchema>;
export type ServiceRouteConfigInput = z.input<typeof serviceRouteSchema>;
