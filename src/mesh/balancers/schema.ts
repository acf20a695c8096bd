/**
 * The YAML `balancer:` block. One strategy per service; weights come from each instance's
 * `service.weight`.
 * @example
 * balancer: { strategy: consistent_hash, hash_key: user.id, virtual_nodes: 160 }
 */
import * as z from 'zod';

export const BALANCER_STRATEGIES = ['round_robin', 'weighted', 'least_connections', 'random', 'consistent_hash'] as const;

/**
 * Count calls in flight per instance for strategies that do not need it (diagnostics, autoscaling
 * on inflight_per_replica). Costs one promise reaction per call; least_connections and random
 * always count, they choose by it.
 */
const trackInFlight = z.boolean().default(false);
const alwaysCounts = (strategy: string) =>
  z
    .boolean()
    .default(true)
    .refine((value) => value, `${strategy} chooses by calls in flight, so it always counts them`);

export const balancerSchema = z.discriminatedUnion('strategy', [
  z.strictObject({ strategy: z.literal('round_robin'), track_in_flight: trackInFlight }),
  /** Smooth weighted round robin (nginx): weight 3 vs 1 gives a b a a, interleaved, never bursts. */
  z.strictObject({ strategy: z.literal('weighted'), track_in_flight: trackInFlight }),
  /** Fewest calls in flight through this balancer; ties go to the instance picked longest ago. */
  z.strictObject({ strategy: z.literal('least_connections'), track_in_flight: alwaysCounts('least_connections') }),
  /** Power of two choices: two random instances, the one with fewer calls in flight. */
  z.strictObject({ strategy: z.literal('random'), track_in_flight: alwaysCounts('random') }),
  z.strictObject({
    strategy: z.literal('consistent_hash'),
    /** Dotted path into the call input (`user.id`); a call may pass `options.key` instead. */
    hash_key: z
      .string()
      .regex(/^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/, 'expected a dotted path like user.id')
      .optional(),
    /** Ring points per unit of weight: more points, a more even spread, a slower rebuild. */
    virtual_nodes: z.number().int().min(1).max(1_000).default(160),
    track_in_flight: trackInFlight,
  }),
]);

export type BalancerStrategy = (typeof BALANCER_STRATEGIES)[number];
export type BalancerConfig = z.output<typeof balancerSchema>;
export type BalancerConfigInput = z.input<typeof balancerSchema>;

/** Strategies that choose by calls in flight, and so always count them. */
export const COUNTING_STRATEGIES: readonly BalancerStrategy[] = ['least_connections', 'random'];
