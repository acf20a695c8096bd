/**
 * Opening a KV bucket that may not exist yet: the first master of a cluster creates it, every
 * later one opens it as it is. A bucket created with another max age keeps its own (the server's
 * expiry follows the bucket): every master of a cluster should use the same `ttl`.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { loadNats } from './nats.js';

export interface BucketOptions {
  /** Max age of an entry in ms (the bucket's TTL); 0 keeps entries for ever. */
  readonly ttl?: number;
  readonly history?: number;
}

export async function openBucket(nc: NatsConnection, name: string, options: BucketOptions = {}): Promise<KV> {
  const { kv } = await loadNats();
  const kvm = new kv.Kvm(nc);
  try {
    return await kvm.create(name, { history: options.history ?? 1, ...(options.ttl === undefined || options.ttl === 0 ? {} : { ttl: options.ttl }) });
  } catch (err) {
    // Exists with another configuration: use it as it is.
    if (/already in use|different configuration/i.test((err as Error).message)) return kvm.open(name);
    throw err;
  }
}

const WRONG_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;

/**
 * The bucket's stream is gone (an operator ran `nats kv rm`): it must be created again, not
 * retried. A read says "stream not found"; a put to a bucket nobody stores any more gets no
 * responder, which the client reports as "jetstream is not enabled".
 */
export function isBucketMissing(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; api_error?: { err_code?: number }; message?: string } | null;
  if (e?.name === 'StreamNotFoundError' || e?.api_error?.err_code === STREAM_NOT_FOUND || e?.code === STREAM_NOT_FOUND) return true;
  return /stream not found|jetstream is not enabled|no responders/i.test(String(e?.message));
}

/** A compare-and-set (create, update, delete with a revision) that lost: the key was not as expected. */
export function isWrongSequence(err: unknown): boolean {
  const e = err as { code?: unknown; api_error?: { err_code?: number }; message?: string };
  return e.api_error?.err_code === WRONG_SEQUENCE || e.code === WRONG_SEQUENCE || /wrong last sequence/.test(String(e.message));
}

/** Whether a process of this host is alive (a lease holder on the same host that is not can be taken over at once). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
