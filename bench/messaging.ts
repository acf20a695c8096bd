/**
 * The messaging benchmarks (issue 9), each beside its floor measured in the same run:
 * - append: SqliteMessageLog.appendBatch / append against raw node:sqlite inserts (batched in one
 *   transaction; single-row autocommit), WAL, synchronous=NORMAL; target ≥ 0.8x the floor;
 * - handle: messages handled per second by one command worker with a trivial handler against a
 *   raw read + JSON decode of the same rows; target ≥ 300k/s; plainjob beside it;
 * - latency: append-to-handler at 10k messages/s, appender in the same process and in another;
 *   target p50 ≤ 2 ms, p99 ≤ 10 ms; the raw inotify wake-up as the floor; plainjob beside it;
 * - memory: per idle command worker; target ≤ 1 MB.
 */
export { benchAppend } from './messaging-append.js';
export { benchHandle } from './messaging-handle.js';
export { benchLatency } from './messaging-latency.js';
export { benchWorkerMemory } from './messaging-memory.js';
