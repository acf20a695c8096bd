/**
 * Probe types by name. The master starts with the built-in ones; a new probe type registers here
 * (its config shape lives in the one config schema, which stays the single source of types).
 */
import { hsuError } from '../errors.js';
import type { HealthCheckConfig, ReadinessConfig } from '../config/index.js';
import { execProbe } from './exec-probe.js';
import { grpcProbe } from './grpc-probe.js';
import { httpProbe } from './http-probe.js';
import type { Probe, ProbeDefinition, ProbeTarget } from './probe.js';
import { runtimeProbe } from './runtime-probe.js';
import { tcpProbe } from './tcp-probe.js';

export class ProbeRegistry {
  private readonly definitions = new Map<string, ProbeDefinition<never>>();

  static withBuiltins(): ProbeRegistry {
    return new ProbeRegistry().register(runtimeProbe).register(httpProbe).register(tcpProbe).register(grpcProbe).register(execProbe);
  }

  register<C extends HealthCheckConfig>(definition: ProbeDefinition<C>): this {
    if (this.definitions.has(definition.type)) {
      throw hsuError('PROBE_EXISTS', `a health probe of type '${definition.type}' is already registered`, { type: definition.type });
    }
    this.definitions.set(definition.type, definition as unknown as ProbeDefinition<never>);
    return this;
  }

  types(): string[] {
    return [...this.definitions.keys()];
  }

  /** A probe reads its type's keys and the timeout, never the thresholds (the caller counts), so a readiness block serves too. */
  create(check: HealthCheckConfig | ReadinessConfig, target: ProbeTarget): Probe {
    const definition = this.definitions.get(check.type) as ProbeDefinition | undefined;
    if (definition === undefined) {
      throw hsuError('PROBE_NOT_FOUND', `no health probe of type '${check.type}' is registered (types: ${this.types().join(', ')})`, { type: check.type, available: this.types() });
    }
    return definition.create(check as HealthCheckConfig, target);
  }
}
