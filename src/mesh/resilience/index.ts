// Public face of resilience: the per-service policy (on cockatiel), its schema, the middleware form.
export { ResiliencePolicy, type ResilienceDiagnostics, type ResilienceEvent, type ResiliencePolicyOptions } from './policy.js';
export { resilienceMiddleware } from './middleware.js';
export {
  DEFAULT_RETRY_CODES,
  JITTERS,
  bulkheadSchema,
  circuitBreakerSchema,
  resilienceSchema,
  retrySchema,
  type BulkheadConfig,
  type CircuitBreakerConfig,
  type ResilienceConfig,
  type ResilienceConfigInput,
  type RetryConfig,
} from './schema.js';
export { countsAgainstInstance, isRetryable } from './classify.js';
export type { BreakerDiagnostics, BreakerState, CircuitStateEvent } from './breakers.js';
