/** Bounds on what a package may cost; every one is an option of the store, these are defaults. */
export interface PackageLimits {
  /** The .tgz as downloaded or copied. */
  readonly maxArchiveBytes: number;
  /** The sum of all file sizes once unpacked (a gzip bomb stops here). */
  readonly maxUnpackedBytes: number;
  /** Files, directories and links in one archive. */
  readonly maxEntries: number;
  /** A repository's index.json, and sidecar files. */
  readonly maxIndexBytes: number;
  /** package.yaml. */
  readonly maxManifestBytes: number;
  /** A download with no byte for this long is cut (stalled server). */
  readonly idleTimeoutMs: number;
  /** The whole install (every download, unpack and check) must end within this. */
  readonly installTimeoutMs: number;
}

export const DEFAULT_LIMITS: PackageLimits = {
  maxArchiveBytes: 512 * 2 ** 20,
  maxUnpackedBytes: 2 * 2 ** 30,
  maxEntries: 100_000,
  maxIndexBytes: 8 * 2 ** 20,
  maxManifestBytes: 2 ** 20,
  idleTimeoutMs: 30_000,
  installTimeoutMs: 10 * 60_000,
};

export function withLimits(overrides: Partial<PackageLimits> | undefined): PackageLimits {
  return { ...DEFAULT_LIMITS, ...overrides };
}
