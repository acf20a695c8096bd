// `type: runtime`: the runtime's own answer (a module's isHealthy(), a process being alive).
import type { ProbeDefinition } from './probe.js';
import { errorText } from './probe.js';

export const runtimeProbe: ProbeDefinition = {
  type: 'runtime',
  create: (check, { instance }) => async (signal) => {
    if (instance.health === undefined) return { ok: true };
    const started = performance.now();
    try {
      // The timeout goes along: a thread or child host bounds the module's isHealthy() with it on its side.
      const answer = await instance.health(signal, check.timeout);
      if (answer === true) return { ok: true };
      // No answer within the timeout is reported as such, wherever the bound struck (here or in the host).
      // Said by the side whose timer fired: a timer can fire a little before performance.now() says
      // its delay has passed (it counts from the loop's cached time), so elapsed time alone misreads it.
      // Elapsed time still covers a runtime of the user's that answers false for a timeout.
      if (answer === 'timeout' || performance.now() - started >= check.timeout) return { ok: false, reason: `health check timed out after ${check.timeout} ms (isHealthy() did not answer in time)` };
      return { ok: false, reason: 'worker reports unhealthy' };
    } catch (error) {
      return { ok: false, reason: `health check threw: ${errorText(error)}` };
    }
  },
};
