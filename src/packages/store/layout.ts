/**
 * Where the store keeps things, under `<state_dir>/packages/`:
 *
 *   <name>/<version>/                the unpacked package (package.yaml at its root)
 *   <name>/<version>/.hsu-package/   receipt.json and archive.tgz, the verified archive it came from
 *   <name>/.current.json             which version is current (and which was before), per scope
 *   .tmp/<pid>-<random>/             one install or removal in progress; renamed into place or removed
 *
 * A version directory only ever appears by one rename of a complete, verified tree, so a version
 * that is listed is whole. Temporary directories of processes that died are swept on the next use.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESERVED_DIR } from '../archive/entry-rules.js';
import { storeError } from '../io-errors.js';

export const PACKAGES_DIR = 'packages';
const TMP_DIR = '.tmp';
const TMP_NAME = /^(\d+)-[0-9a-f]+$/;

export class StoreLayout {
  /** Temporary directories this process is using right now; the sweep leaves them alone. */
  private readonly active = new Set<string>();

  constructor(readonly root: string) {}

  static forStateDir(stateDir: string): StoreLayout {
    return new StoreLayout(path.join(path.resolve(stateDir), PACKAGES_DIR));
  }

  packageDir(name: string): string {
    return path.join(this.root, name);
  }

  versionDir(name: string, version: string): string {
    return path.join(this.root, name, version);
  }

  metaDir(versionDir: string): string {
    return path.join(versionDir, RESERVED_DIR);
  }

  receiptFile(versionDir: string): string {
    return path.join(versionDir, RESERVED_DIR, 'receipt.json');
  }

  archiveCopy(versionDir: string): string {
    return path.join(versionDir, RESERVED_DIR, 'archive.tgz');
  }

  currentFile(name: string): string {
    return path.join(this.root, name, '.current.json');
  }

  /** A fresh temporary directory inside the store (same file system, so rename is atomic). */
  async makeTemp(): Promise<string> {
    const dir = path.join(this.root, TMP_DIR, `${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw storeError(error, `creating ${dir}`);
    }
    this.active.add(dir);
    return dir;
  }

  async removeTemp(dir: string): Promise<void> {
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } finally {
      this.active.delete(dir);
    }
  }

  /** Removes what interrupted installs left: temp dirs of dead processes, and this one's strays. */
  async sweep(): Promise<string[]> {
    const tmpRoot = path.join(this.root, TMP_DIR);
    let names: string[];
    try {
      names = await readdir(tmpRoot);
    } catch {
      return [];
    }
    const removed: string[] = [];
    for (const name of names) {
      const dir = path.join(tmpRoot, name);
      const pid = Number(TMP_NAME.exec(name)?.[1] ?? Number.NaN);
      const stray = Number.isNaN(pid) || (pid === process.pid ? !this.active.has(dir) : !isAlive(pid));
      if (!stray) continue;
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
      removed.push(dir);
    }
    return removed;
  }

  /** Writes JSON by rename, so a reader sees the old or the new file, never half of one. */
  async writeJsonAtomic(file: string, value: unknown): Promise<void> {
    const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw storeError(error, `writing ${file}`, { file });
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
