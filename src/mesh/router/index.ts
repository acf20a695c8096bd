// Public face of routing: the router, the invoke contract the master supplies, the per-service schema.
export { ServiceRouter, type RouterEvent, type ServiceDiagnostics, type ServiceRouterOptions } from './router.js';
export type { Invoke } from './route.js';
export { serviceRouteSchema, type ServiceRouteConfig, type ServiceRouteConfigInput } from './schema.js';
