// Public face of health checking: the probe port, the registry and the built-in probe types.
export { ProbeRegistry } from './registry.js';
export type { Probe, ProbeDefinition, ProbeResult, ProbeTarget } from './probe.js';
export { execProbe } from './exec-probe.js';
export { grpcProbe } from './grpc-probe.js';
export { httpProbe } from './http-probe.js';
export { runtimeProbe } from './runtime-probe.js';
export { tcpProbe } from './tcp-probe.js';
