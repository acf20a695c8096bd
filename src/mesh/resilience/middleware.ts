/**
 * Resilience as call middleware, for calls that name one target (a worker id) rather than a
 * replicated service: the service's policy runs the call and guards each attempt with the breaker
 * and timeout of the service itself. The router does the same per instance.
 */
import type { CallMiddleware } from '../call.js';
import type { ResiliencePolicy } from './policy.js';

export function resilienceMiddleware(policyFor: (service: string) => ResiliencePolicy | undefined): CallMiddleware {
  return (request, next) => {
    const policy = policyFor(request.service);
    if (policy === undefined) return next(request);
    if (!policy.guardsAttempts) return policy.run(request, next);
    return policy.run(request, (attempt) =>
      policy.guard(attempt.service, (signal) => next(signal === attempt.options.signal ? attempt : { ...attempt, options: { ...attempt.options, signal } }), attempt.options.signal),
    );
  };
}
