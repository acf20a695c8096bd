// Public face of the config folder: schemas and types, duration parsing, loading and validation.
export * from './schema.js';
export { DURATION_HINT, durationSchema, parseDuration, tryParseDuration } from './duration.js';
export { formatPath } from './issues.js';
export { checkConfigData, formatIssues, loadConfigFile, parseConfig, parseWorkerConfig, readConfigData, validateConfigFile, validateConfigFileExpanded, validateConfigText } from './load.js';
export type { ConfigData, ConfigExpansion, ConfigIssue, ValidationResult } from './load.js';
export { resolveConfigPaths, resolveWorkerPaths } from './resolve.js';
export { adoptable, configHash } from './adoption.js';
export { ENV_SELECTOR, envOverlaysSchema, selectedEnvironment } from './environments.js';
export type { EnvOverlays } from './environments.js';
