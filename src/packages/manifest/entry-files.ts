/**
 * The files a manifest promises must be in the package: the executable for `process` (unless it is
 * a bare command found in PATH) and the module file for `module`. Checked when packing and again
 * when installing, inside the package root only (a link that leaves it does not count).
 */
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { hsuError } from '../../errors.js';
import { isBareCommand } from './rules.js';
import type { PackageManifest } from './schema.js';

export async function checkDeclaredFiles(root: string, manifest: PackageManifest, source: string): Promise<void> {
  if (manifest.process !== undefined && !isBareCommand(manifest.process.executable_path)) {
    const file = await fileInside(root, manifest.process.executable_path, 'process.executable_path', manifest, source);
    try {
      await access(file, constants.X_OK);
    } catch {
      throw missing(manifest, source, 'process.executable_path', manifest.process.executable_path, 'is not executable (chmod +x it before packing)');
    }
  }
  if (manifest.module !== undefined) {
    await fileInside(root, manifest.module.module_path, 'module.module_path', manifest, source);
  }
}

async function fileInside(root: string, relative: string, key: string, manifest: PackageManifest, source: string): Promise<string> {
  const realRoot = await realpath(root);
  let file: string;
  try {
    file = await realpath(path.join(root, relative));
  } catch {
    throw missing(manifest, source, key, relative, 'does not exist in the package');
  }
  if (!file.startsWith(`${realRoot}${path.sep}`)) throw missing(manifest, source, key, relative, 'resolves outside the package');
  if (!(await stat(file)).isFile()) throw missing(manifest, source, key, relative, 'is not a regular file');
  return file;
}

function missing(manifest: PackageManifest, source: string, key: string, relative: string, reason: string): Error {
  return hsuError('PACKAGE_ENTRY_MISSING', `${source}: ${key} ${JSON.stringify(relative)} ${reason} (package ${manifest.name}@${manifest.version} lists ${manifest.supported_types.join(', ')} in supported_types)`, {
    source,
    key,
    path: relative,
    package: manifest.name,
    version: manifest.version,
  });
}
