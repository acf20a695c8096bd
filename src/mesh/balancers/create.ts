/** `createBalancer(config)`: the balancer a `balancer:` block describes, validated with located messages. */
import { parseBlock } from '../config.js';
import type { BaseBalancer } from './base.js';
import { ConsistentHashBalancer } from './consistent-hash.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { PowerOfTwoBalancer } from './random.js';
import { RoundRobinBalancer } from './round-robin.js';
import { balancerSchema, type BalancerConfig, type BalancerConfigInput } from './schema.js';
import type { Balancer } from './types.js';
import { WeightedBalancer } from './weighted.js';

export interface CreateBalancerOptions {
  /** Named in errors and stats. */
  readonly service?: string;
  /** For exact tests of the random strategy. */
  readonly random?: () => number;
  /** Where config issues are said to be, e.g. `workers[2].balancer`. Default `balancer`. */
  readonly where?: string;
}

export function createBalancer(config: BalancerConfigInput = { strategy: 'round_robin' }, options: CreateBalancerOptions = {}): Balancer {
  const parsed: BalancerConfig = parseBlock(balancerSchema, config, options.where ?? 'balancer');
  const service = options.service ?? 'service';
  return build(parsed, service, options.random);
}

function build(config: BalancerConfig, service: string, random: (() => number) | undefined): BaseBalancer {
  switch (config.strategy) {
    case 'round_robin':
      return new RoundRobinBalancer(service, config.track_in_flight);
    case 'weighted':
      return new WeightedBalancer(service, config.track_in_flight);
    case 'least_connections':
      return new LeastConnectionsBalancer(service);
    case 'random':
      return new PowerOfTwoBalancer(service, random);
    case 'consistent_hash':
      return new ConsistentHashBalancer(service, config.virtual_nodes, config.track_in_flight);
  }
}
