// The `supported_types` check, worded once for install (--target) and for workers (type:).
import { hsuError } from '../../errors.js';
import { PACKAGE_TYPES } from './schema.js';
import type { PackageManifest, PackageType } from './schema.js';

export type InstallTarget = PackageType | 'both';
export const INSTALL_TARGETS = [...PACKAGE_TYPES, 'both'] as const;

export function assertSupports(manifest: Pick<PackageManifest, 'name' | 'version' | 'supported_types'>, wanted: InstallTarget, context: Record<string, unknown> = {}): void {
  const types: readonly PackageType[] = wanted === 'both' ? PACKAGE_TYPES : [wanted];
  const missing = types.filter((type) => !manifest.supported_types.includes(type));
  if (missing.length === 0) return;
  const supported = manifest.supported_types.join(' and ');
  throw hsuError('PACKAGE_UNSUPPORTED_TYPE', `${manifest.name}@${manifest.version} cannot be deployed as ${missing.join(' and ')}: its supported_types are ${supported}`, {
    ...context,
    package: manifest.name,
    version: manifest.version,
    supported_types: [...manifest.supported_types],
    requested: wanted,
  });
}
