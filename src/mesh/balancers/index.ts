// Public face of the balancers: the factory, the schema, the contract and the strategies.
export { createBalancer, type CreateBalancerOptions } from './create.js';
export { BALANCER_STRATEGIES, COUNTING_STRATEGIES, balancerSchema, type BalancerConfig, type BalancerConfigInput, type BalancerStrategy } from './schema.js';
export type { Balancer, BalancerStats, InstanceStats, Lease } from './types.js';
export { hashKeyOf } from './consistent-hash.js';
export { hash32 } from './hash.js';
