/**
 * `type: grpc`: the standard grpc.health.v1.Health/Check over @grpc/grpc-js, healthy only when the
 * server answers SERVING for `service` ('' = the whole server). @grpc/grpc-js is loaded the first
 * time such a probe runs, so nobody else pays for it. One client per probe, closed after it.
 */
import type { HealthCheckConfig } from '../config/index.js';
import { decodeResponse, encodeRequest, type ServingStatus } from './grpc-wire.js';
import type { ProbeDefinition, ProbeResult } from './probe.js';
import { abortReason, errorText, portOf } from './probe.js';

type GrpcCheck = Extract<HealthCheckConfig, { type: 'grpc' }>;

export const grpcProbe: ProbeDefinition<GrpcCheck> = {
  type: 'grpc',
  create: (check, target) => async (signal) => {
    const port = portOf(check.port, target);
    if (port === undefined) return { ok: false, reason: 'no port to probe: the worker has not been given one' };
    const grpc = await import('@grpc/grpc-js');
    const address = `${check.host}:${port}`;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    try {
      return await new Promise<ProbeResult>((resolve) => {
        const call = client.makeUnaryRequest<string, ServingStatus>(
          '/grpc.health.v1.Health/Check',
          encodeRequest,
          decodeResponse,
          check.service,
          new grpc.Metadata(),
          { deadline: Date.now() + check.timeout },
          (error, status) => {
            signal.removeEventListener('abort', onAbort);
            if (error !== null) resolve({ ok: false, reason: `grpc ${address} Health/Check failed: ${errorText(error)}` });
            else if (status === 'SERVING') resolve({ ok: true });
            else resolve({ ok: false, reason: `grpc ${address} answered ${status ?? 'nothing'}${check.service === '' ? '' : ` for service '${check.service}'`}` });
          },
        );
        const onAbort = (): void => {
          call.cancel();
          resolve({ ok: false, reason: `grpc ${address}: ${abortReason(signal)}` });
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      client.close();
    }
  },
};
