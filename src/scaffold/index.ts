// Public face of scaffolding (`hsu new`): projects generated from the templates the package ships.
export { scaffold, scaffoldValues, PROJECT_KINDS, TEMPLATES_DIR } from './generate.js';
export type { ProjectKind, ScaffoldOptions, ScaffoldResult } from './generate.js';
export { render, outputName } from './render.js';
export type { TemplateValues } from './render.js';
export { DX_ERROR_CODES } from './error-codes.js';
