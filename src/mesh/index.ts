/**
 * Public face of `hsu/core`: the service registry, balancers, resilience policies, the service
 * router that joins them, the autoscaler and the typed event bus. The master feeds the registry,
 * the router calls through balancers and policies, and every part publishes typed events.
 */
export * from './registry/index.js';
export * from './balancers/index.js';
export * from './resilience/index.js';
export * from './router/index.js';
export * from './autoscaler/index.js';
export * from './bus/index.js';
export { NO_OPTIONS, composeMiddleware, type CallMiddleware, type CallNext, type CallRequest, type CallRequestOptions } from './call.js';
export { parseBlock } from './config.js';
export { MESH_ERROR_CODES } from './error-codes.js';
export { meshServiceSchema, type MeshServiceConfig, type MeshServiceConfigInput } from './schema.js';
