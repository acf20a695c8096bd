/**
 * A real nats-server for tests and benchmarks: found on PATH (Debian's `nats-server` package puts
 * it in /usr/sbin) or at $HSU_NATS_SERVER, started on a free loopback port with JetStream and a
 * temporary store directory, stopped (and restartable on the same port and store) by its owner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary, or undefined when it is not installed. */
export function findNatsServer(): string | undefined {
  const fromEnv = process.env['HSU_NATS_SERVER'];
  if (fromEnv !== undefined && fromEnv !== '' && existsSync(fromEnv)) return fromEnv;
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'nats-server');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return CANDIDATES.find((candidate) => existsSync(candidate));
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface NatsServerOptions {
  /** Address to listen on. Default 127.0.0.1. */
  readonly host?: string;
  readonly port?: number;
  /** Largest message the server accepts (its max_payload); default the server's 1 MB. */
  readonly max_payload?: number;
  /** Serve TLS only, with this certificate and key (PEM files). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

export class NatsServer {
  readonly url: string;
  private child: ChildProcess | undefined;
  private readonly store: string;

  private constructor(
    readonly binary: string,
    readonly host: string,
    readonly port: number,
    private readonly maxPayload: number | undefined,
    private readonly tls: NatsServerOptions['tls'] = undefined,
  ) {
    this.url = `nats://${host}:${port}`;
    this.store = mkdtempSync(path.join(os.tmpdir(), 'hsu-nats-'));
  }

  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const binary = findNatsServer();
    if (binary === undefined) throw new Error('nats-server is not installed (apt-get install -y nats-server, or set HSU_NATS_SERVER)');
    const host = options.host ?? '127.0.0.1';
    const server = new NatsServer(binary, host, options.port ?? (await freePort(host)), options.max_payload, options.tls);
    await server.launch();
    return server;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** Starts the server again on the same port and store (after stop()). */
  async launch(): Promise<void> {
    if (this.child !== undefined) return;
    const args = ['-js', '-p', String(this.port), '-a', this.host, '-sd', path.join(this.store, 'js')];
    if (this.tls !== undefined) args.push('--tls', '--tlscert', this.tls.cert, '--tlskey', this.tls.key);
    if (this.maxPayload !== undefined) {
      const config = path.join(this.store, 'server.conf');
      writeFileSync(config, `max_payload: ${this.maxPayload}\n`);
      args.push('-c', config);
    }
    const child = spawn(this.binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    let log = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not become ready in 10 s:\n${log}`)), 10_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Server is ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited with ${code}:\n${log}`));
      });
    });
    child.stderr?.removeAllListeners('data');
    child.stderr?.resume();
    child.removeAllListeners('exit');
  }

  /** Ends the server (SIGKILL with `kill`: nothing is flushed, as a crash) and waits for its exit. */
  async stop(kill = false): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.store, { recursive: true, force: true });
  }
}
