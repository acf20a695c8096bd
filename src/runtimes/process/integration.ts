/**
 * `management: integrated`: the master gives the worker a loopback port, by environment variable
 * and by `{port}` / `{host}` in its arguments. Port 0 means a free port picked at each start: the
 * kernel assigns one to a listener we open and close at once (another process could take it in
 * between; the readiness probe then fails and the start is retried by policy). A fixed port is
 * bound once before the spawn, so a port held by another process is a clear PORT_IN_USE.
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
  if (integration.port !== 0) {
    // A fixed port someone else holds would answer the readiness probe for the worker: refuse
    // before spawning, with the reason, rather than report a squatter as our worker running.
    await bindOnce(integration.port, integration.host).catch((error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw hsuError('PORT_IN_USE', `worker '${workerId}': port ${integration.port} on ${integration.host} is already in use by another process`, { worker_id: workerId, host: integration.host, port: integration.port }, error);
      throw hsuError('SPAWN_FAILED', `worker '${workerId}': cannot listen on ${integration.host}:${integration.port}: ${(error as Error).message}`, { worker_id: workerId, host: integration.host, port: integration.port }, error);
    });
    return { port: integration.port, host: integration.host };
  }
  const port = await bindOnce(0, integration.host).catch((error: unknown) => {
    throw hsuError('SPAWN_FAILED', `worker '${workerId}': cannot find a free port on ${integration.host}: ${(error as Error).message}`, { worker_id: workerId, host: integration.host }, error);
  });
  return { port, host: integration.host };
}

/** Listens on `port` (0: any) and closes at once; resolves with the port the kernel gave. */
function bindOnce(port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no address'))));
    });
  });
}

export function fillArgs(args: readonly string[], assigned: Assigned): string[] {
  return args.map((arg) => arg.replaceAll('{port}', String(assigned.port)).replaceAll('{host}', assigned.host));
}
