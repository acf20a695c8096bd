/**
 * `management: integrated`: the master gives the worker a loopback port, by environment variable
 * and by `{port}` / `{host}` in its arguments. Port 0 means a free port picked at each start: the
 * kernel assigns one to a listener we open and close at once (another process could take it in
 * between; the readiness probe then fails and the start is retried by policy).
 */
import { createServer } from 'node:net';
import { hsuError } from '../../errors.js';

export interface IntegrationOptions {
  readonly port: number;
  readonly host: string;
  readonly portEnv: string;
}

export interface Assigned {
  readonly port: number;
  readonly host: string;
}

export async function assignPort(workerId: string, integration: IntegrationOptions): Promise<Assigned> {
  if (integration.port !== 0) return { port: integration.port, host: integration.host };
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: integration.host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no address'))));
    });
  }).catch((error: unknown) => {
    throw hsuError('SPAWN_FAILED', `worker '${workerId}': cannot find a free port on ${integration.host}: ${(error as Error).message}`, { worker_id: workerId, host: integration.host }, error);
  });
  return { port, host: integration.host };
}

export function fillArgs(args: readonly string[], assigned: Assigned): string[] {
  return args.map((arg) => arg.replaceAll('{port}', String(assigned.port)).replaceAll('{host}', assigned.host));
}
