/** The cluster's codes (and the JetStream message log's), spread into the one catalogue (`src/errors.ts`). */
export const CLUSTER_ERROR_CODES = {
  CLUSTER_NOT_JOINED: { status: 404, summary: 'this master is not part of a cluster' },
  CLUSTER_UNAVAILABLE: { status: 503, summary: 'the cluster (NATS) cannot be reached from this master' },
  CLUSTER_NODE_UNREACHABLE: { status: 503, summary: 'no master answers for this node: it is gone or not serving yet' },
  CLUSTER_NODE_NAME_TAKEN: { status: 409, summary: 'another live master holds this node name in the cluster' },
  CLUSTER_PAYLOAD_TOO_LARGE: { status: 413, summary: 'the message is larger than the NATS server accepts (max_payload)' },
  CLUSTER_PROTOCOL: { status: 502, summary: 'a cluster message could not be decoded' },
  CLUSTER_CLOSED: { status: 409, summary: 'the cluster connection of this master is closed' },
  CONSUMER_LEASED: { status: 409, summary: 'another live worker holds this consumer of the message log' },
  CONSUMER_LEASE_LOST: { status: 409, summary: 'this worker lost its consumer lease: another worker took the checkpoint over' },
} as const;
