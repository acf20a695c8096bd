// Soak: the hot paths repeated many times with memory and file descriptors bounded. resolve() and
// the worker plan run at every worker start; install/remove cycles exercise staging, unpacking,
// renames and temporary directories; over HTTP they also open and close sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PackageStore, planPackagedWorker } from '../../src/packages/index.js';
import { buildPackage, startServer, suiteScratch } from './helpers.js';
import { heapAfterGc } from '../helpers/gc.js';

const work = suiteScratch('soak');
const MB = 2 ** 20;


function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('soak', () => {
  it('20 000 resolve() + worker plans stay within 4 MB of heap', async () => {
    const store = new PackageStore({ stateDir: path.join(work.dir, 'state-resolve') });
    await store.install((await buildPackage(path.join(work.dir, 'repo'), { name: 'hot', version: '1.0.0' })).file);
    const cycle = async (): Promise<void> => {
      const pkg = await store.resolve('hot', '^1.0.0', { type: 'module' });
      planPackagedWorker(pkg, { id: 'w', type: 'module', health_check: { type: 'runtime' } });
    };
    for (let i = 0; i < 1_000; i++) await cycle();
    const before = heapAfterGc();
    for (let i = 0; i < 20_000; i++) await cycle();
    const grown = heapAfterGc() - before;
    assert.ok(grown < 4 * MB, `heap grew by ${(grown / MB).toFixed(1)} MB`);
  });

  it('100 install/remove cycles from a file and 40 over HTTP leak no memory, fds or sockets', async () => {
    const packed = await buildPackage(path.join(work.dir, 'repo-cycle'), { name: 'cycled', version: '1.0.0' });
    const body = readFileSync(packed.file);
    const server = await startServer((req, res) => {
      if (req.url === '/cycled-1.0.0.tgz') res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    work.onClose(() => server.close());
    const store = new PackageStore({ stateDir: path.join(work.dir, 'state-cycle') });
    const cycle = async (ref: string): Promise<void> => {
      await store.install(ref);
      await store.remove('cycled');
    };
    for (let i = 0; i < 10; i++) await cycle(packed.file);
    const heap = heapAfterGc();
    const fds = openFds();
    for (let i = 0; i < 100; i++) await cycle(packed.file);
    for (let i = 0; i < 40; i++) await cycle(`${server.url}/cycled-1.0.0.tgz`);
    const grown = heapAfterGc() - heap;
    assert.ok(grown < 8 * MB, `heap grew by ${(grown / MB).toFixed(1)} MB`);
    assert.ok(openFds() <= fds, `open file descriptors: ${openFds()}, before: ${fds}`);
    assert.deepEqual(readdirSync(path.join(store.root, '.tmp')), []);
    assert.deepEqual(await store.list(), []);
  });
});
