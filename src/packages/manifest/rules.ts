/**
 * The small rules package names, versions and in-package paths follow. They are shared by the
 * manifest schema, the repository index, reference parsing and the store layout, because a name
 * or version is also a directory name in the store.
 */
import path from 'node:path';
import { semverLib } from '../../lazy-libs.js';

/** 1-64 of lowercase letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const PACKAGE_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function isPackageName(value: string): boolean {
  return PACKAGE_NAME_PATTERN.test(value);
}

/** A full semantic version as written (`1.2.3`, `2.0.0-rc.1`), not a loose one like `v1.2`. */
export function isExactVersion(value: string): boolean {
  return semverLib().valid(value) === value;
}

/** A semver range (`^1.2.0`, `>=2.1.0 <3`, `1.x`, `*`) or an exact version. */
export function isVersionRange(value: string): boolean {
  return value.trim() !== '' && semverLib().validRange(value) !== null;
}

/**
 * Why `value` is not a safe path inside a package, or undefined when it is: relative, no `..`
 * segment, no empty name. Returned as words for the schema message.
 */
export function inPackagePathProblem(value: string): string | undefined {
  if (value === '') return 'must not be empty';
  if (value.includes('\0')) return 'must not contain a NUL character';
  if (path.posix.isAbsolute(value) || /^[A-Za-z]:/.test(value)) return 'must be relative to the package root, not absolute';
  const segments = value.split('/');
  if (segments.includes('..')) return 'must not contain ".." (it would leave the package)';
  const normal = path.posix.normalize(value);
  if (normal === '.' || normal.endsWith('/')) return 'must name a file, not a directory';
  return undefined;
}

/** `./bin/x` -> `bin/x`; callers have checked {@link inPackagePathProblem} first. */
export function normalizeInPackagePath(value: string): string {
  return path.posix.normalize(value);
}

/** A bare command name (`node`, `python3`) is looked up in PATH, as in the worker config. */
export function isBareCommand(value: string): boolean {
  return !value.includes('/');
}
