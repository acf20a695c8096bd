/**
 * One package made ready inside a temporary directory: fetched, checksum and signature checked,
 * unpacked under the archive rules, package.yaml validated, declared files present, receipt
 * written. Nothing here touches the installed versions; committing is one rename (install.ts).
 */
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { hsuError } from '../../errors.js';
import { assertChecksum } from '../archive/checksum.js';
import { extractArchive } from '../archive/extract.js';
import { findSigner } from '../archive/signing.js';
import type { TrustedKey } from '../archive/signing.js';
import { fetchArchive } from '../fetch/source.js';
import type { ArchiveSource } from '../fetch/source.js';
import { storeError } from '../io-errors.js';
import type { PackageLimits } from '../limits.js';
import { checkDeclaredFiles } from '../manifest/entry-files.js';
import { readManifestFile } from '../manifest/load.js';
import type { PackageManifest } from '../manifest/schema.js';
import type { StoreLayout } from './layout.js';
import type { Receipt } from './receipt.js';

export type ProgressPhase = 'download' | 'unpack';

export interface ProgressEvent {
  readonly phase: ProgressPhase;
  /** The archive being worked on (file path or URL). */
  readonly source: string;
  readonly bytes: number;
  /** Total bytes when known (Content-Length, file size, index size). */
  readonly total: number | undefined;
}

export interface StageContext {
  readonly layout: StoreLayout;
  readonly limits: PackageLimits;
  readonly trustedKeys: readonly TrustedKey[];
  readonly signal?: AbortSignal | undefined;
  readonly ca?: string | undefined;
  readonly onProgress?: ((event: ProgressEvent) => void) | undefined;
}

export interface StagedPackage {
  /** The complete package tree, ready to be renamed to `<name>/<version>`. */
  readonly tree: string;
  readonly manifest: PackageManifest;
  readonly receipt: Receipt;
}

export function describeSource(location: URL): string {
  return location.protocol === 'file:' ? fileURLToPath(location) : location.href;
}

/** Stages `source` into `tmp` (a directory of its own from {@link StoreLayout.makeTemp}). */
export async function stagePackage(source: ArchiveSource, tmp: string, context: StageContext): Promise<StagedPackage> {
  const label = describeSource(source.location);
  const archive = path.join(tmp, 'archive.tgz');
  const tree = path.join(tmp, 'tree');
  const progress = (phase: ProgressPhase) => (bytes: number, total: number | undefined) => context.onProgress?.({ phase, source: label, bytes, total });

  const fetched = await fetchArchive(source, archive, { limits: context.limits, signal: context.signal, ca: context.ca, onBytes: progress('download') });
  const verify = async (): Promise<{ sha256: string; keyId: string | undefined }> => {
    const sha256 = await fetched.digest();
    assertChecksum(sha256, fetched.expected_sha256, label);
    return { sha256, keyId: checkSignature(sha256, fetched.signature, context.trustedKeys, label) };
  };
  await mkdirOrFail(tree);
  const unpack = (): Promise<{ entries: number; bytes: number }> => extractArchive(archive, tree, { limits: context.limits, source: label, signal: context.signal, onProgress: progress('unpack') });
  let checked: { sha256: string; keyId: string | undefined };
  let unpacked: { entries: number; bytes: number };
  if (context.trustedKeys.length > 0) {
    // With trusted keys nothing unsigned is even parsed: the signature is checked before unpacking.
    checked = await verify();
    unpacked = await unpack();
  } else {
    // Without, the checksum only guards integrity, and hashing a local copy can overlap unpacking
    // (both stay in the temporary directory; nothing is committed before the check).
    const [hashed, extracted] = await Promise.allSettled([verify(), unpack()]);
    if (hashed.status === 'rejected') throw hashed.reason;
    if (extracted.status === 'rejected') throw extracted.reason;
    [checked, unpacked] = [hashed.value, extracted.value];
  }
  const manifest = await readManifestFile(tree, label, context.limits.maxManifestBytes);
  if ((source.name !== undefined && source.name !== manifest.name) || (source.version !== undefined && source.version !== manifest.version)) {
    throw hsuError('PACKAGE_NAME_MISMATCH', `${label} holds ${manifest.name}@${manifest.version}, but the repository lists it as ${source.name ?? manifest.name}@${source.version ?? manifest.version}`, {
      source: label,
      manifest_name: manifest.name,
      manifest_version: manifest.version,
      expected_name: source.name,
      expected_version: source.version,
    });
  }
  await checkDeclaredFiles(tree, manifest, label);

  const receipt: Receipt = {
    format: 1,
    name: manifest.name,
    version: manifest.version,
    supported_types: manifest.supported_types,
    source: source.location.href,
    sha256: checked.sha256,
    size: fetched.size,
    signature: fetched.signature ?? null,
    key_id: checked.keyId ?? null,
    entries: unpacked.entries,
    unpacked_bytes: unpacked.bytes,
    installed_at: new Date().toISOString(),
  };
  const meta = context.layout.metaDir(tree);
  await mkdirOrFail(meta);
  try {
    await rename(archive, context.layout.archiveCopy(tree));
  } catch (error) {
    throw storeError(error, `keeping the archive of ${label}`);
  }
  await context.layout.writeJsonAtomic(context.layout.receiptFile(tree), receipt);
  return { tree, manifest, receipt };
}

/**
 * With trusted keys configured a package must carry a signature that one of them made; without,
 * a signature is kept in the receipt but vouches for nothing. Returns the signer's key id.
 */
export function checkSignature(sha256: string, signature: string | undefined, keys: readonly TrustedKey[], label: string): string | undefined {
  if (keys.length === 0) return undefined;
  if (signature === undefined || signature === '') {
    throw hsuError('PACKAGE_SIGNATURE_MISSING', `${label} is not signed, and this store only accepts packages signed by a trusted key (${keys.length} configured)`, { source: label });
  }
  const signer = findSigner(sha256, signature, keys);
  if (signer === undefined) {
    throw hsuError('PACKAGE_SIGNATURE_INVALID', `${label}: the signature does not verify with any of the ${keys.length} trusted key(s)`, { source: label, trusted_keys: keys.map((key) => key.id) });
  }
  return signer.id;
}

async function mkdirOrFail(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw storeError(error, `creating ${dir}`);
  }
}
