// `type: tcp`: a connection that must be accepted within the timeout (an integrated worker's own port by default).
import { connect } from 'node:net';
import type { HealthCheckConfig } from '../config/index.js';
import type { ProbeDefinition, ProbeResult } from './probe.js';
import { abortReason, portOf } from './probe.js';

type TcpCheck = Extract<HealthCheckConfig, { type: 'tcp' }>;

export const tcpProbe: ProbeDefinition<TcpCheck> = {
  type: 'tcp',
  create: (check, target) => (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const port = portOf(check.port, target);
      const host = check.host;
      if (port === undefined) return resolve({ ok: false, reason: 'no port to probe: the worker has not been given one' });
      const socket = connect({ host, port });
      const done = (result: ProbeResult): void => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve(result);
      };
      const onAbort = (): void => done({ ok: false, reason: `connect ${host}:${port}: ${abortReason(signal)}` });
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('connect', () => done({ ok: true }));
      socket.once('error', (error) => done({ ok: false, reason: `connect ${host}:${port} failed: ${error.message}` }));
    }),
};
