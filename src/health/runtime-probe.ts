// `type: runtime`: the runtime's own answer (a module's isHealthy(), a process being alive).
import type { ProbeDefinition } from './probe.js';
import { errorText } from './probe.js';

export const runtimeProbe: ProbeDefinition = {
  type: 'runtime',
  create: (_check, { instance }) => async (signal) => {
    if (instance.health === undefined) return { ok: true };
    try {
      return (await instance.health(signal)) ? { ok: true } : { ok: false, reason: 'worker reports unhealthy' };
    } catch (error) {
      return { ok: false, reason: `health check threw: ${errorText(error)}` };
    }
  },
};
