// Shared by the cluster tests: a nats-server per suite, masters as separate processes driven over
// IPC (fixtures/master-node.ts), and waits on conditions instead of sleeps.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before } from 'node:test';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deserializeError, type SerializedError } from '../../src/errors.js';
import type { ClusterConfigInput } from '../../src/cluster/index.js';
import type { NodeSpec, Request } from './fixtures/master-node.js';
import { tempDir } from '../helpers/master-helpers.js';
import { findNatsServer, NatsServer } from './nats-server.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Generous: only a hang should reach it. */
export const LIVENESS_MS = 20_000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every 20 ms until it returns something other than undefined/false. */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = LIVENESS_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export function clusterBlock(url: string, node: string, extra: Partial<ClusterConfigInput> = {}): ClusterConfigInput {
  return { name: 'test', node, servers: url, heartbeat_interval: 100, ttl: 600, reconnect: { initial: 50, max: 300 }, ...extra };
}

/** A test file's own nats-server and scratch directory (see {@link natsForFile}). */
export interface FileNats {
  /** Why the file's suites are skipped (nats-server missing), or false. */
  readonly skip: string | false;
  /** The scratch directory, removed after the file's tests. */
  readonly dir: string;
  /** The server, once the file's `before` hook started it. */
  server(): NatsServer;
}

/**
 * One nats-server for the whole file, started in a `before` hook and stopped in an `after` hook,
 * with a scratch directory removed after the tests. Call it at the top level of a test file.
 */
export function natsForFile(scratchName: string): FileNats {
  const skip = findNatsServer() === undefined ? 'nats-server is not installed (apt-get install -y nats-server)' : false;
  const scratch = tempDir(scratchName);
  let nats: NatsServer | undefined;
  before(async () => {
    if (skip === false) nats = await NatsServer.start();
  });
  after(async () => {
    await nats?.stop();
    scratch.remove();
  });
  return {
    skip,
    dir: scratch.dir,
    server: () => {
      if (nats === undefined) throw new Error('the file\'s nats-server is not started (natsForFile: before hook not run, or nats-server missing)');
      return nats;
    },
  };
}

/** What a master's hsu.yaml in a cluster test holds beyond its `cluster:` block. */
export interface ClusterYaml {
  /** Directory the file is written to (made if missing); the master's state and logs go below it. */
  readonly dir: string;
  readonly cluster: string;
  readonly node: string;
  readonly servers: string;
  /** More lines of the `cluster:` block (indented 4) and of the master section (indented 2). */
  readonly clusterLines?: readonly string[];
  readonly masterLines?: readonly string[];
  /** The `workers:` list, each line indented as in the file. */
  readonly workers: readonly string[];
}

/** Writes `<dir>/hsu.yaml` for a master of a test cluster (beats of 200 ms, a TTL of 1 s) and returns its path. */
export function writeClusterYaml(spec: ClusterYaml): string {
  mkdirSync(spec.dir, { recursive: true });
  const file = path.join(spec.dir, 'hsu.yaml');
  const lines = ['master:', '  state_dir: .hsu', '  log_dir: logs', '  shutdown_timeout: 5s', '  cluster:', `    name: ${spec.cluster}`, `    node: ${spec.node}`, `    servers: [${spec.servers}]`, '    heartbeat_interval: 200ms', '    ttl: 1s'];
  lines.push(...(spec.clusterLines ?? []), ...(spec.masterLines ?? []), 'workers:', ...spec.workers, '');
  writeFileSync(file, lines.join('\n'));
  return file;
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never;

/** A master in its own process. */
export class NodeProcess {
  readonly node: string;
  private readonly child: ChildProcess;
  private sequence = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();
  readonly exited: Promise<number | null>;

  private constructor(child: ChildProcess, node: string) {
    this.child = child;
    this.node = node;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    child.on('message', (message: { id?: number; ok?: boolean; value?: unknown; error?: SerializedError }) => {
      if (message.id === undefined) return;
      const entry = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok === true) entry?.resolve(message.value);
      else entry?.reject(deserializeError(message.error as SerializedError));
    });
    void this.exited.then(() => {
      for (const entry of this.pending.values()) entry.reject(new Error(`node ${node} exited`));
      this.pending.clear();
    });
  }

  /** `netns`: run the master inside that network namespace (`ip netns exec`), its IPC channel kept. */
  static async start(spec: NodeSpec, netns?: string): Promise<NodeProcess> {
    const entry = path.join(here, 'fixtures', 'master-node.js');
    const inNamespace = netns === undefined ? {} : { execPath: 'ip', execArgv: ['netns', 'exec', netns, process.execPath] };
    const child = fork(entry, [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced', ...inNamespace });
    const node = new NodeProcess(child, String(spec.cluster.node));
    await new Promise<void>((resolve, reject) => {
      const onMessage = (message: { ready?: boolean }): void => {
        if (message.ready === true) {
          child.off('message', onMessage);
          resolve();
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`node ${node.node} exited with ${code} before it was ready`)));
    });
    return node;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  request<T = unknown>(request: Distribute<Request>): Promise<T> {
    const id = this.sequence++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.child.send({ ...request, id });
    });
  }

  call<T = unknown>(service: string, action: string, input?: unknown, options?: { idempotent?: boolean; timeout?: number }): Promise<T> {
    return this.request<T>({ op: 'call', service, action, input, ...(options === undefined ? {} : { options }) });
  }

  kill(): Promise<number | null> {
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Clean shutdown; resolves with the handles still active in the child just before it exits. */
  async shutdown(): Promise<string[]> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return [];
    const left = await this.request<string[]>({ op: 'shutdown' });
    await this.exited;
    return left;
  }
}
