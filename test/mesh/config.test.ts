// The mesh's part of a worker config, as the lead will spread it into the worker schema: defaults,
// the in-flight counting that autoscaling needs, and every refusal located.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { meshServiceSchema, parseBlock } from '../../src/mesh/index.js';
import { issuePaths, thrown } from './helpers.js';

void describe('service, balancer, resilience and autoscale blocks', () => {
  it('parse the proposed YAML shapes with their defaults', () => {
    const parsed = parseBlock(
      meshServiceSchema,
      {
        service: { name: 'orders', version: '2.1.0', weight: 2 },
        balancer: { strategy: 'consistent_hash', hash_key: 'customer.id' },
        resilience: { timeout: '2s', retry: { max_attempts: 3 }, circuit_breaker: { consecutive: 5 }, bulkhead: { max_concurrent: 32 }, idempotent_actions: ['get'] },
        autoscale: { min: 2, max: 8, metric: 'queue_depth', scale_up_at: 100, scale_down_at: 10 },
      },
      'workers[0]',
    );
    assert.deepEqual(parsed.service, { name: 'orders', version: '2.1.0', weight: 2, metadata: {} });
    assert.deepEqual(parsed.balancer, { strategy: 'consistent_hash', hash_key: 'customer.id', virtual_nodes: 160, track_in_flight: false });
    assert.equal(parsed.resilience?.timeout, 2_000);
    assert.deepEqual(parsed.resilience?.retry.backoff, { initial: 10, max: 1_000 });
    assert.equal(parsed.resilience?.circuit_breaker?.half_open_after, 10_000);
    assert.equal(parsed.resilience?.bulkhead?.queue, 0);
    assert.equal(parsed.autoscale?.cooldown, 30_000);
  });

  it('autoscaling on inflight_per_replica turns on in-flight counting', () => {
    const auto = { min: 1, max: 4, metric: 'inflight_per_replica', scale_up_at: 8, scale_down_at: 2 } as const;
    assert.deepEqual(parseBlock(meshServiceSchema, { autoscale: auto }, 'w').balancer, { strategy: 'round_robin', track_in_flight: true });
    assert.deepEqual(parseBlock(meshServiceSchema, { autoscale: auto, balancer: { strategy: 'weighted' } }, 'w').balancer, { strategy: 'weighted', track_in_flight: true });
  });

  it('refuse nonsense, each issue at its path', () => {
    const error = thrown(() =>
      parseBlock(
        meshServiceSchema,
        {
          service: { name: 'bad name', weight: 5_000 },
          balancer: { strategy: 'least_connections', track_in_flight: false },
          resilience: { retry: { backoff: { initial: '1s', max: '10ms' } } },
          autoscale: { min: 4, max: 2, metric: 'cpu_percent', scale_up_at: 50, scale_down_at: 70 },
          replicas: 3,
        },
        'workers[2]',
      ),
    );
    assert.equal(error.code, 'HSU_ERR_CONFIG_INVALID');
    assert.deepEqual(issuePaths(error).sort(), [
      'workers[2].autoscale.max',
      'workers[2].autoscale.scale_down_at',
      'workers[2].balancer.track_in_flight',
      'workers[2].replicas',
      'workers[2].resilience.retry.backoff.max',
      'workers[2].service.name',
      'workers[2].service.weight',
    ]);
    assert.match(error.message, /workers\[2\]\.autoscale\.max {2}must be >= min \(4\), got 2/);
  });
});
