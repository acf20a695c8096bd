// Faults outside the archive: a full disk (a 1 MiB tmpfs mounted for the test, as root) and an
// install killed with SIGKILL halfway through its download. Each leaves nothing installed, and the
// next install cleans up what the dead one left.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PackageStore } from '../../src/packages/index.js';
import { buildPackage, rejectsWith, startServer, suiteScratch, treeOf } from './helpers.js';
import type { TestServer } from './helpers.js';

const work = suiteScratch('faults');
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hsu-package.js');

/** Mounts a tmpfs of `size` at `dir`; undefined (with the reason) when this machine does not allow it. */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `mount -t tmpfs failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

function usedBytes(dir: string): number {
  const fs = statfsSync(dir);
  return (fs.blocks - fs.bfree) * fs.bsize;
}

/**
 * A server that sends half of `body` for `stall` under the full Content-Length, then stalls;
 * `half` resolves once that half is on the wire. `full` gets the whole body, anything else 404.
 */
async function halfwayServer(body: Buffer, stall: string, full?: string): Promise<{ server: TestServer; half: Promise<void> }> {
  const stalled: ServerResponse[] = [];
  let halfSent: () => void = () => undefined;
  const half = new Promise<void>((resolve) => {
    halfSent = resolve;
  });
  const server = await startServer((req, res) => {
    if (req.url === full) {
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } else if (req.url === stall) {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, body.length / 2), () => halfSent());
      stalled.push(res);
    } else {
      res.writeHead(404).end();
    }
  });
  work.onClose(async () => {
    for (const res of stalled) res.destroy();
    await server.close();
  });
  return { server, half };
}

describe('faults', () => {
  it('a full disk is PACKAGE_DISK_FULL, whether the archive or its contents do not fit', async (t) => {
    const mount = path.join(work.dir, 'tiny');
    const skip = mountTmpfs(mount, '1m');
    if (skip !== undefined) {
      t.skip(skip);
      return;
    }
    try {
      const empty = usedBytes(mount);
      const store = new PackageStore({ stateDir: mount });
      const repo = path.join(work.dir, 'repo');
      // 2 MiB of noise: the archive itself does not fit.
      const noisy = await buildPackage(repo, { name: 'noisy', version: '1.0.0', files: { 'blob.bin': { content: randomBytes(2 * 2 ** 20) } } });
      const first = await rejectsWith(store.install(noisy.file), 'PACKAGE_DISK_FULL');
      assert.equal(first.context.errno, 'ENOSPC');
      // 3 MiB of zeros: a tiny archive whose contents do not fit.
      const airy = await buildPackage(repo, { name: 'airy', version: '1.0.0', files: { 'zeros.bin': { content: Buffer.alloc(3 * 2 ** 20) } } });
      assert.ok(airy.size < 64 * 1024);
      await rejectsWith(store.install(airy.file), 'PACKAGE_DISK_FULL');
      assert.deepEqual(await store.list(), []);
      assert.deepEqual(treeOf(path.join(mount, 'packages', '.tmp')), []);
      // Everything written was given back: the next install that fits succeeds.
      assert.ok(usedBytes(mount) - empty < 64 * 1024, `still used: ${usedBytes(mount) - empty} bytes`);
      const small = await buildPackage(repo, { name: 'small', version: '1.0.0' });
      assert.equal((await store.install(small.file)).package.version, '1.0.0');
    } finally {
      unmount(mount);
    }
  });

  it('an install killed halfway leaves no version behind, and the next one sweeps its remains', async () => {
    const repo = path.join(work.dir, 'repo-kill');
    const packed = await buildPackage(repo, { name: 'killed', version: '1.0.0', files: { 'blob.bin': { content: randomBytes(512 * 1024) } } });
    const body = readFileSync(packed.file);
    const { server, half } = await halfwayServer(body, '/stall/killed-1.0.0.tgz', '/killed-1.0.0.tgz');
    const stateDir = path.join(work.dir, 'state-kill');
    const child = spawn(process.execPath, [CHILD, 'install', `${server.url}/stall/killed-1.0.0.tgz`], { env: { ...process.env, HSU_STATE_DIR: stateDir }, stdio: 'ignore' });
    try {
      await half;
      // The child is mid-download: its temporary directory exists and holds a partial archive.
      const tmpRoot = path.join(stateDir, 'packages', '.tmp');
      const partial = readdirSync(tmpRoot);
      assert.equal(partial.length, 1);
      assert.ok(partial[0]?.startsWith(`${child.pid}-`));
      child.kill('SIGKILL');
      await once(child, 'exit');
      assert.equal(existsSync(`/proc/${child.pid}`), false);
      const store = new PackageStore({ stateDir });
      assert.deepEqual(await store.list(), []);
      assert.equal(existsSync(path.join(store.root, 'killed')), false);
      // The next install sweeps the dead install's directory and completes.
      assert.equal((await store.install(`${server.url}/killed-1.0.0.tgz`)).package.version, '1.0.0');
      assert.deepEqual(readdirSync(tmpRoot), []);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('SIGTERM during an install undoes it and exits 1 with a coded error', async () => {
    const repo = path.join(work.dir, 'repo-term');
    const packed = await buildPackage(repo, { name: 'termed', version: '1.0.0', files: { 'blob.bin': { content: randomBytes(256 * 1024) } } });
    const body = readFileSync(packed.file);
    const { server, half } = await halfwayServer(body, '/termed-1.0.0.tgz');
    const stateDir = path.join(work.dir, 'state-term');
    const child = spawn(process.execPath, [CHILD, 'install', `${server.url}/termed-1.0.0.tgz`], { env: { ...process.env, HSU_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      await half;
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 1);
      assert.match(stderr, /^hsu package: .*\[HSU_ERR_PACKAGE_INSTALL_ABORTED\]\n$/);
      assert.deepEqual(readdirSync(path.join(stateDir, 'packages', '.tmp')), []);
      assert.deepEqual(await new PackageStore({ stateDir }).list(), []);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
