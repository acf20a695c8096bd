/** The mesh's codes, spread into the one catalogue (`src/errors.ts`). Tests match codes, never text. */
export const MESH_ERROR_CODES = {
  NO_HEALTHY_INSTANCE: { status: 503, summary: 'the service has no healthy instance to call' },
  CIRCUIT_OPEN: { status: 503, summary: 'the circuit breaker is open' },
  BULKHEAD_FULL: { status: 503, summary: 'the bulkhead has no free slot and its queue is full' },
  HASH_KEY_MISSING: { status: 400, summary: 'consistent hashing needs a key and the call has none' },
  INSTANCE_NOT_FOUND: { status: 404, summary: 'no registered instance with this id' },
  INSTANCE_INVALID: { status: 400, summary: 'the instance registration is invalid' },
  INSTANCE_EXISTS: { status: 409, summary: 'an instance with this id is registered for another service' },
  MESH_CLOSED: { status: 409, summary: 'the registry, router, bus or autoscaler is closed' },
  BUS_TOPIC_UNKNOWN: { status: 400, summary: 'the bus has no schema for this topic' },
  BUS_PAYLOAD_INVALID: { status: 400, summary: 'the payload does not match the topic schema' },
  AUTOSCALE_SAMPLE_INVALID: { status: 400, summary: 'the autoscaler sample lacks the configured metric' },
} as const;
