/**
 * Health probes beyond the runtime's own answer: an HTTP GET expecting 2xx, or a TCP connect.
 * Each probe resolves to a verdict and never throws; the controller counts consecutive failures.
 */
import { connect } from 'node:net';

export interface ProbeResult {
  readonly ok: boolean;
  readonly reason?: string;
}

export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok ? { ok: true } : { ok: false, reason: `GET ${url} answered ${response.status}` };
  } catch (error) {
    return { ok: false, reason: `GET ${url} failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, reason: `connect ${host}:${port} timed out after ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (error) => done({ ok: false, reason: `connect ${host}:${port} failed: ${error.message}` }));
  });
}

/** Bounds a runtime's own health answer (module isHealthy(), process liveness) by the probe timeout. */
export async function probeRuntime(check: () => Promise<boolean>, timeoutMs: number): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `health check timed out after ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([check().then((ok): ProbeResult => (ok ? { ok: true } : { ok: false, reason: 'worker reports unhealthy' })), timeout]);
  } catch (error) {
    return { ok: false, reason: `health check threw: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}
