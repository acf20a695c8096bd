/**
 * Builds a package archive from a directory: checks its package.yaml and declared files first,
 * writes `<name>-<version>.tgz` (or the given file), its `.sha256` sidecar and, with a private key,
 * its `.sig` sidecar. What `hsu package pack` runs, and how the tests and the benchmark make packages.
 */
import { readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { create } from 'tar';
import { storeError } from '../io-errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { checkDeclaredFiles } from '../manifest/entry-files.js';
import { readManifestFile } from '../manifest/load.js';
import type { PackageManifest } from '../manifest/schema.js';
import { sha256OfFile } from './checksum.js';
import { RESERVED_DIR } from './entry-rules.js';
import { signChecksum } from './signing.js';

export interface PackOptions {
  /** The archive to write; default `<out_dir>/<name>-<version>.tgz`. */
  readonly file?: string;
  /** Where the default file name goes; default the current directory. */
  readonly outDir?: string;
  /** Signs the archive (writes `<file>.sig`). */
  readonly privateKey?: KeyObject;
}

export interface PackResult {
  readonly file: string;
  readonly sha256: string;
  readonly size: number;
  readonly signature: string | undefined;
  readonly manifest: PackageManifest;
}

export async function packPackage(dir: string, options: PackOptions = {}): Promise<PackResult> {
  const root = path.resolve(dir);
  const manifest = await readManifestFile(root, root, DEFAULT_LIMITS.maxManifestBytes);
  await checkDeclaredFiles(root, manifest, root);
  const file = path.resolve(options.file ?? path.join(options.outDir ?? '.', `${manifest.name}-${manifest.version}.tgz`));
  // Sorted names and portable headers (no owner names, no atime/ctime) keep archives reproducible.
  const names = (await readdir(root)).filter((name) => name !== RESERVED_DIR && path.join(root, name) !== file).sort();
  try {
    await create({ gzip: true, cwd: root, file, portable: true }, names);
    const { sha256, size } = await sha256OfFile(file);
    await writeFile(`${file}.sha256`, `${sha256}  ${path.basename(file)}\n`);
    const signature = options.privateKey === undefined ? undefined : signChecksum(sha256, options.privateKey);
    if (signature === undefined) await rm(`${file}.sig`, { force: true });
    else await writeFile(`${file}.sig`, `${signature}\n`);
    return { file, sha256, size, signature, manifest };
  } catch (error) {
    throw storeError(error, `packing ${root} into ${file}`, { file });
  }
}
