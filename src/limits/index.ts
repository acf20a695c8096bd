// Public face of limits: the config schema, the pure evaluator, its per-worker monitor, enforcement choice.
export { DEFAULT_MEMORY_HEADROOM, enforcementFor, kernelLimitsFor } from './enforcement.js';
export type { EnforcementReport } from './enforcement.js';
export { cpuOverWindow, evaluateLimits, strongestAction } from './evaluate.js';
export type { LimitSample, Violation } from './evaluate.js';
export { LimitsMonitor } from './monitor.js';
export type { LimitDecision } from './monitor.js';
export { cpuLimitSchema, DEFAULT_CPU_WINDOW_MS, DEFAULT_POLICY, LIMIT_POLICIES, limitPolicySchema, limitsSchema, memoryLimitSchema, openFilesLimitSchema } from './schema.js';
export type { LimitKind, LimitPolicy, Limits, LimitsInput } from './schema.js';
export { SIZE_HINT, sizeSchema, tryParseSize } from './size.js';
