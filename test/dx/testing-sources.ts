/**
 * Module sources for the hsu/testing tests, one good and three broken in the ways testModule's
 * conformance cases exist to catch: a timer left running after stop (inline only leaks it), a
 * stop that never ends, and a module that reports itself unhealthy.
 */
import { WORKER_ENTRY } from './ts-sources.js';

const head = `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};\n`;

export const GOOD_MJS = `${head}export default () => defineModule({
  info: { name: 'adder', version: '1.0.0' },
  start() {},
  actions: { add: ({ a, b }) => a + b },
});
`;

export const LEAKY_MJS = `${head}export default () => defineModule({
  info: { name: 'leaky', version: '1.0.0' },
  // The test clears what leaked (through globalThis) so the test process can exit.
  start() { (globalThis.leakedTimers ??= []).push(setInterval(() => undefined, 60_000)); },
  actions: { ping: () => 'pong' },
});
`;

export const HANGS_ON_STOP_MJS = `${head}export default () => defineModule({
  info: { name: 'hangs', version: '1.0.0' },
  start() {},
  stop() { return new Promise(() => undefined); },
  actions: { ping: () => 'pong' },
});
`;

export const UNHEALTHY_MJS = `${head}export default () => defineModule({
  info: { name: 'sick', version: '1.0.0' },
  start() {},
  isHealthy() { return false; },
  actions: { ping: () => 'pong' },
});
`;
