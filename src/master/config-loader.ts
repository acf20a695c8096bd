/**
 * Loading a whole config file for a master: read, interpolate, expand `package:` workers from the
 * package store (installing them when asked), check. One path for `hsu run`, reload,
 * `Master.fromConfigFile` and `hsu validate`, so they can never disagree about a file.
 */
import path from 'node:path';
import { formatIssues, validateConfigFileExpanded, type HsuConfig, type ValidationResult } from '../config/index.js';
import { hsuError } from '../errors.js';
import { expandPackages } from '../packages/expand.js';

export interface LoadOptions {
  /** Install a package a worker names when no installed version fits (default true). */
  readonly install?: boolean;
  readonly env?: NodeJS.ProcessEnv;
}

export function validateConfigForMaster(file: string, options: LoadOptions = {}): Promise<ValidationResult> {
  const baseDir = path.dirname(path.resolve(file));
  return validateConfigFileExpanded(file, (data) => expandPackages(data, { baseDir, install: options.install ?? true }), options.env === undefined ? {} : { env: options.env });
}

/** The config, or HSU_ERR_CONFIG_INVALID listing every issue (HSU_ERR_CONFIG_NOT_FOUND for a missing file). */
export async function loadConfigForMaster(file: string, options: LoadOptions = {}): Promise<HsuConfig> {
  const result = await validateConfigForMaster(file, options);
  if (result.ok) return result.config;
  const count = result.issues.length === 1 ? '1 issue' : `${result.issues.length} issues`;
  throw hsuError('CONFIG_INVALID', `invalid configuration in ${file} (${count}):\n${formatIssues(result.issues).replace(/^/gm, '  ')}`, { file, issues: result.issues });
}
