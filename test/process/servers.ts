// Real servers on loopback for the probe tests: an HTTP server whose answers a test scripts, and a
// grpc.health.v1 server (grpc-health-check's HealthImplementation on @grpc/grpc-js).
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatusMap } from 'grpc-health-check';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedHttp {
  readonly port: number;
  /** Every answered request, in order, as `hit:<n>:<status>`; tests push their own entries too. */
  readonly log: string[];
  hits(): number;
  close(): Promise<void>;
}

/** Answers the n-th request (1-based) with `answer(n)`: a status and a body. Idle connections are kept `keepAliveMs`. */
export async function scriptedHttp(answer: (n: number) => { status: number; body?: string }, keepAliveMs = 1): Promise<ScriptedHttp> {
  const log: string[] = [];
  let hits = 0;
  const server = http.createServer((_req, res) => {
    hits += 1;
    const { status, body } = answer(hits);
    log.push(`hit:${hits}:${status}`);
    res.statusCode = status;
    res.end(body ?? `status ${status}`);
  });
  server.keepAliveTimeout = keepAliveMs;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    log,
    hits: () => hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface HealthServer {
  readonly port: number;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

export async function grpcHealthServer(statuses: ServingStatusMap): Promise<HealthServer> {
  const server = new grpc.Server();
  const health = new HealthImplementation(statuses);
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))),
  );
  return {
    port,
    health,
    close: () =>
      new Promise((resolve) => {
        server.tryShutdown(() => resolve());
        setTimeout(() => server.forceShutdown(), 1_000).unref();
      }),
  };
}
