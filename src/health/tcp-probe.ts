// `type: tcp`: a connection that must be accepted within the timeout.
import { connect } from 'node:net';
import type { HealthCheckConfig } from '../config/index.js';
import type { ProbeDefinition, ProbeResult } from './probe.js';
import { abortReason } from './probe.js';

type TcpCheck = Extract<HealthCheckConfig, { type: 'tcp' }>;

export const tcpProbe: ProbeDefinition<TcpCheck> = {
  type: 'tcp',
  create: (check) => (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const { host, port } = check;
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
