// Public face of the control API: the app (a node:http request listener), the server, the settings.
export { createApiApp } from './app.js';
export type { ApiApp, ApiAppOptions } from './app.js';
export { ApiServer, ENDPOINT_FILE_NAME } from './server.js';
export type { ApiServerOptions, EndpointRecord } from './server.js';
export { apiSettingsSchema, isLoopbackHost, parseListen, resolveApiSettings } from './config.js';
export type { ApiSettings, ApiSettingsInput, ResolvedApiSettings } from './config.js';
export type { ControlEvents, ControlHost, MasterPhase } from './host.js';
export { openApiDocument } from './openapi.js';
export { API_ERROR_CODES } from './error-codes.js';
export { TOKEN_FILE_NAME, tokenMatches } from './token.js';
