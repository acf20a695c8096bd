// Public face of the registry: the contract (for other backends too), the in-memory one, the shapes.
export { MemoryRegistry, type MemoryRegistryOptions } from './memory-registry.js';
export type { Awaitable, RegistryEvent, RegistryEventType, RegistrySubscribeOptions, RegistryView, RemovalReason, ServiceRegistry } from './types.js';
export {
  ENDPOINT_TYPES,
  HEALTH_STATES,
  MAX_WEIGHT,
  endpointSchema,
  instanceIdSchema,
  instanceInputSchema,
  instancePatchSchema,
  loadSchema,
  serviceBlockSchema,
  serviceNameSchema,
  type Endpoint,
  type EndpointType,
  type HealthState,
  type InstanceInput,
  type InstanceLoad,
  type InstancePatch,
  type ServiceBlock,
  type ServiceBlockInput,
  type ServiceInstance,
} from './schema.js';
