/**
 * What `hsu package install <ref>` and `package: <ref>` accept. An archive: a path to a .tgz, a
 * `file:` URL or an http(s) URL of one. A package: `name`, `name:1.2.3` or `name:<semver range>`,
 * looked up in the installed store and the configured repositories.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { hsuError } from '../../errors.js';
import type { ArchiveSource } from '../fetch/source.js';
import { isExactVersion, isPackageName, isVersionRange } from '../manifest/rules.js';

export type PackageRef = { readonly kind: 'archive'; readonly text: string; readonly source: ArchiveSource } | { readonly kind: 'package'; readonly text: string; readonly name: string; readonly range: string };

const ARCHIVE = /\.(tgz|tar\.gz)$/i;

export function parsePackageRef(text: string, cwd: string = process.cwd()): PackageRef {
  const trimmed = text.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) || trimmed.startsWith('file:')) {
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch (error) {
      throw invalid(text, 'is not a valid URL', error);
    }
    if (!['file:', 'http:', 'https:'].includes(url.protocol)) throw invalid(text, `uses ${url.protocol}; use a file:, http: or https: URL`);
    if (!ARCHIVE.test(url.pathname)) {
      throw invalid(text, 'does not name a .tgz archive; for a repository index or directory, name the package too: hsu package install <repository> <name[:range]>');
    }
    return { kind: 'archive', text, source: { location: url } };
  }
  if (trimmed.includes('/') || ARCHIVE.test(trimmed)) {
    return { kind: 'archive', text, source: { location: pathToFileURL(path.resolve(cwd, trimmed)) } };
  }
  const { name, version } = splitNameVersion(trimmed);
  const range = version === undefined || version === '' ? '*' : version;
  if (!isVersionRange(range)) throw invalid(text, `has ${JSON.stringify(range)}, which is not a version or semver range`);
  return { kind: 'package', text, name, range };
}

/** `name` or `name:1.2.3` (an exact version), as `rm` and `verify` take them. */
export function parseInstalledRef(text: string): { name: string; version: string | undefined } {
  const { name, version } = splitNameVersion(text.trim());
  if (version !== undefined && !isExactVersion(version)) throw invalid(text, `has ${JSON.stringify(version)}; name an exact installed version like 1.2.3`);
  return { name, version };
}

function splitNameVersion(text: string): { name: string; version: string | undefined } {
  const colon = text.indexOf(':');
  const name = colon === -1 ? text : text.slice(0, colon);
  if (!isPackageName(name)) throw invalid(text, 'does not start with a package name (1-64 of a-z, 0-9, ".", "_", "-")');
  return { name, version: colon === -1 ? undefined : text.slice(colon + 1).trim() };
}

function invalid(text: string, reason: string, cause?: unknown): Error {
  return hsuError('PACKAGE_REF_INVALID', `package reference ${JSON.stringify(text)} ${reason}`, { ref: text }, cause);
}
