/** The NATS names of one JetStream message log: its stream, subjects, buckets and headers. */
import { encodeToken } from '../../cluster/keys.js';

export const HEADER_NAME = 'Hsu-Name';
export const HEADER_AT = 'Hsu-At';

export interface LogNames {
  readonly stream: string;
  readonly subject: string;
  /** Consumer state changed (a re-drive request): watchers of every process hear it. */
  readonly changed: string;
  /** Checkpoints and dead letters. */
  readonly stateBucket: string;
  /** Consumer leases (max age = the lease TTL). */
  readonly leaseBucket: string;
  readonly positionKey: (consumer: string) => string;
  readonly letterKey: (consumer: string, messageId: number) => string;
  readonly lettersOf: (consumer: string) => string;
  readonly leaseKey: (consumer: string) => string;
}

/** Log names follow worker ids: 1-64 of [A-Za-z0-9_-]. */
export const LOG_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function logNames(name: string): LogNames {
  return {
    stream: `HSU_LOG_${name}`,
    subject: `hsu.log.${name}`,
    changed: `hsu.log-changed.${name}`,
    stateBucket: `hsu_log_${name}`,
    leaseBucket: `hsu_log_${name}_leases`,
    positionKey: (consumer) => `pos.${encodeToken(consumer)}`,
    letterKey: (consumer, id) => `dl.${encodeToken(consumer)}.${id}`,
    lettersOf: (consumer) => `dl.${encodeToken(consumer)}.>`,
    leaseKey: (consumer) => encodeToken(consumer),
  };
}
