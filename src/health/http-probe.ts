// `type: http`: a GET that must answer 2xx (and contain `expect_body` when set) within the timeout.
import type { HealthCheckConfig } from '../config/index.js';
import type { ProbeDefinition } from './probe.js';
import { abortReason, errorText, fillPlaceholders } from './probe.js';

type HttpCheck = Extract<HealthCheckConfig, { type: 'http' }>;

export const httpProbe: ProbeDefinition<HttpCheck> = {
  type: 'http',
  create: (check, target) => async (signal) => {
    const url = fillPlaceholders(check.url, target);
    try {
      const response = await fetch(url, { signal, redirect: 'manual' });
      if (!response.ok) {
        await response.body?.cancel();
        return { ok: false, reason: `GET ${url} answered ${response.status}` };
      }
      if (check.expect_body === undefined) {
        await response.body?.cancel();
        return { ok: true };
      }
      const body = await response.text();
      return body.includes(check.expect_body) ? { ok: true } : { ok: false, reason: `GET ${url}: body does not contain ${JSON.stringify(check.expect_body)}` };
    } catch (error) {
      return { ok: false, reason: `GET ${url} failed: ${signal.aborted ? abortReason(signal) : errorText(error)}` };
    }
  },
};
