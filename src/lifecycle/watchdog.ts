/**
 * The port for anything that watches a running instance and may end it: health probes, resource
 * limits, a schedule. A watchdog never changes state itself; it asks the controller, which owns
 * every transition, to stop, restart or kill the instance with a cause. The controller begins a
 * watchdog when an instance is running and ends it before anything else happens to that instance.
 */
import type { Logger } from 'pino';
import type { Instance, StopCause } from './runtime.js';

/** What a watchdog wants done: restart by policy, stop and stay stopped, or kill now (then policy). */
export type WatchdogAction = 'restart' | 'stop' | 'kill';

export interface WatchdogControl {
  /** Ask the controller to act. Ignored unless the instance is still the running one. */
  request(action: WatchdogAction, cause: Exclude<StopCause, 'requested'>, reason: string): void;
  readonly logger: Logger;
}

export interface Watchdog {
  /** Its key in diagnostics (`watchdogs.<name>`). */
  readonly name: string;
  /** A new instance is running. */
  begin(instance: Instance, control: WatchdogControl): void;
  /** The instance is ending or gone: clear every timer and abort anything in flight. */
  end(): void;
  /** Cheap, synchronous facts for diagnostics (a plain, JSON-safe object). */
  snapshot(): object;
}
