/**
 * `verify`: is an installed version still what was verified at install time? The kept archive must
 * still hash to the receipt's sha256 (and, with trusted keys configured, carry a valid signature),
 * and the installed tree must match the archive file by file: same content, same link targets,
 * nothing missing, nothing added.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Parser } from 'tar';
import type { ReadEntry } from 'tar';
import { isHsuError } from '../../errors.js';
import { sha256OfFile } from '../archive/checksum.js';
import { RESERVED_DIR } from '../archive/entry-rules.js';
import { checkDeclaredFiles } from '../manifest/entry-files.js';
import { readManifestFile } from '../manifest/load.js';
import { readReceipt } from './receipt.js';
import { checkSignature } from './stage.js';
import type { PackageStore } from './store.js';

export interface VerifyReport {
  readonly name: string;
  readonly version: string;
  readonly ok: boolean;
  /** What differs, one sentence each; empty when ok. */
  readonly problems: readonly string[];
  readonly key_id: string | null;
}

type Expected = { type: 'file'; sha256: string } | { type: 'dir' } | { type: 'symlink'; target: string };

export async function verifyInstalled(store: PackageStore, name: string, version: string): Promise<VerifyReport> {
  const root = store.layout.versionDir(name, version);
  const problems: string[] = [];
  const report = (keyId: string | null): VerifyReport => ({ name, version, ok: problems.length === 0, problems, key_id: keyId });
  let receipt;
  try {
    receipt = await readReceipt(store.layout.receiptFile(root));
  } catch (error) {
    problems.push((error as Error).message);
    return report(null);
  }
  const archive = store.layout.archiveCopy(root);
  const kept = await sha256OfFile(archive).catch(() => undefined);
  if (kept === undefined) problems.push(`the kept archive ${archive} is missing`);
  else if (kept.sha256 !== receipt.sha256) problems.push(`the kept archive hashes to ${kept.sha256}, the receipt says ${receipt.sha256}`);
  let keyId = receipt.key_id;
  try {
    keyId = checkSignature(receipt.sha256, receipt.signature ?? undefined, store.trustedKeys, `${name}@${version}`) ?? receipt.key_id;
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (kept !== undefined) await compareTree(root, archive, problems);
  try {
    await checkDeclaredFiles(root, await readManifestFile(root, root, store.limits.maxManifestBytes), root);
  } catch (error) {
    problems.push(isHsuError(error) ? error.message.split('\n')[0] ?? error.message : String(error));
  }
  return report(keyId);
}

async function compareTree(root: string, archive: string, problems: string[]): Promise<void> {
  let expected: Map<string, Expected>;
  try {
    expected = await readArchive(archive);
  } catch (error) {
    problems.push(`the kept archive cannot be read: ${(error as Error).message}`);
    return;
  }
  for (const [relative, want] of expected) {
    const file = path.join(root, relative);
    const info = await lstat(file).catch(() => undefined);
    if (info === undefined) {
      problems.push(`${relative} is missing`);
    } else if (want.type === 'dir') {
      if (!info.isDirectory()) problems.push(`${relative} should be a directory`);
    } else if (want.type === 'symlink') {
      const target = info.isSymbolicLink() ? await readlink(file) : undefined;
      if (target !== want.target) problems.push(`${relative} should be a link to ${want.target}`);
    } else if (!info.isFile()) {
      problems.push(`${relative} should be a regular file`);
    } else if ((await sha256OfFile(file)).sha256 !== want.sha256) {
      problems.push(`${relative} has changed`);
    }
  }
  for (const relative of await walk(root)) {
    if (!expected.has(relative)) problems.push(`${relative} is not part of the package`);
  }
}

/** Path -> expected kind and content hash for every entry of the archive. */
async function readArchive(archive: string): Promise<Map<string, Expected>> {
  const expected = new Map<string, Expected>();
  const parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      const relative = path.posix.normalize(entry.path).replace(/\/+$/, '');
      if (relative === '.' || relative === '') {
        entry.resume();
        return;
      }
      if (entry.type === 'Directory') expected.set(relative, { type: 'dir' });
      else if (entry.type === 'SymbolicLink') expected.set(relative, { type: 'symlink', target: entry.linkpath ?? '' });
      else if (entry.type === 'Link') {
        const target = expected.get(path.posix.normalize(entry.linkpath ?? ''));
        if (target !== undefined) expected.set(relative, target);
      } else {
        const hash = createHash('sha256');
        entry.on('data', (chunk: Buffer) => hash.update(chunk));
        entry.on('end', () => expected.set(relative, { type: 'file', sha256: hash.digest('hex') }));
        return;
      }
      entry.resume();
    },
  });
  await pipeline(createReadStream(archive), parser);
  // Directories are implied by the files in them, even when the archive lists none.
  for (const relative of [...expected.keys()]) {
    for (let dir = path.posix.dirname(relative); dir !== '.'; dir = path.posix.dirname(dir)) if (!expected.has(dir)) expected.set(dir, { type: 'dir' });
  }
  return expected;
}

async function walk(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (relative === RESERVED_DIR) continue;
    out.push(relative);
    if (entry.isDirectory()) out.push(...(await walk(root, relative)));
  }
  return out;
}
