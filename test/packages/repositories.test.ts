// Repositories and downloads against real files and a real HTTP server on loopback: directories,
// index.json (local and served), file: and http: tarballs, and every way a download goes wrong.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateSigningKeys, parsePrivateKey, PackageStore } from '../../src/packages/index.js';
import type { PackResult, ProgressEvent } from '../../src/packages/index.js';
import { buildPackage, rejectsWith, startServer, suiteScratch, treeOf } from './helpers.js';
import type { TestServer } from './helpers.js';

const work = suiteScratch('repos');
const keys = generateSigningKeys();
const dirRepo = path.join(work.dir, 'dir-repo');
const served = path.join(work.dir, 'served');
const packs: Record<string, PackResult> = {};
let server: TestServer;
const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();

before(async () => {
  for (const version of ['1.0.0', '1.2.0', '2.0.0']) packs[`alpha@${version}`] = await buildPackage(dirRepo, { name: 'alpha', version });
  packs['beta@1.0.0'] = await buildPackage(served, { name: 'beta', version: '1.0.0', files: { 'data.bin': { content: randomBytes(300_000) } } }, parsePrivateKey(keys.private_key_pem));
  packs['beta@1.1.0'] = await buildPackage(served, { name: 'beta', version: '1.1.0' }, parsePrivateKey(keys.private_key_pem));
  server = await startServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (route !== undefined) route(req, res);
    else serveFile(res, path.join(served, path.basename(req.url ?? '')));
  });
  work.onClose(() => server.close());
});

function serveFile(res: ServerResponse, file: string): void {
  let body: Buffer;
  try {
    body = readFileSync(file);
  } catch {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-length': body.length }).end(body);
}

function index(entries: readonly Record<string, unknown>[]): string {
  return JSON.stringify({ format: 1, packages: entries });
}

function entry(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const packed = packs[id];
  assert.ok(packed !== undefined);
  return { name: packed.manifest.name, version: packed.manifest.version, url: path.basename(packed.file), sha256: packed.sha256, size: packed.size, ...extra };
}

let count = 0;
function store(options: { trusted?: boolean; limits?: Record<string, number> } = {}): PackageStore {
  count += 1;
  return new PackageStore({ stateDir: path.join(work.dir, `state-${count}`), trustedKeys: options.trusted === true ? [keys.public_key_base64] : [], limits: options.limits });
}

async function assertEmpty(s: PackageStore): Promise<void> {
  assert.deepEqual(await s.list(), []);
  assert.deepEqual(treeOf(path.join(s.root, '.tmp')), []);
}

describe('local repositories', () => {
  it('a directory of <name>-<version>.tgz files: the highest match of a range wins', async () => {
    const s = store();
    const result = await s.install('alpha:^1', { repositories: [dirRepo] });
    assert.equal(result.package.version, '1.2.0');
    assert.equal((await s.install('alpha', { repositories: [dirRepo] })).package.version, '2.0.0');
    assert.equal((await s.install('alpha:1.2.0', { repositories: [dirRepo] })).already_installed, true);
    await rejectsWith(s.install('alpha:^3', { repositories: [dirRepo] }), 'PACKAGE_NOT_FOUND');
    await rejectsWith(s.install('omega', { repositories: [dirRepo] }), 'PACKAGE_NOT_FOUND');
  });

  it('a directory with an index.json, and an index.json file given directly', async () => {
    const indexed = path.join(work.dir, 'indexed');
    await buildPackage(indexed, { name: 'gamma', version: '0.3.0' }).then((packed) => {
      writeFileSync(path.join(indexed, 'index.json'), index([{ name: 'gamma', version: '0.3.0', url: path.basename(packed.file), sha256: packed.sha256 }]));
    });
    assert.equal((await store().install('gamma', { repositories: [indexed] })).package.version, '0.3.0');
    assert.equal((await store().install('gamma:0.3.x', { repositories: [path.join(indexed, 'index.json')] })).package.version, '0.3.0');
    assert.equal((await store().install('gamma', { repositories: [pathToFileURL(indexed).href] })).package.version, '0.3.0');
  });

  it('a file: URL of a tarball, and a relative path resolved against cwd', async () => {
    const packed = packs['alpha@1.0.0'];
    assert.ok(packed !== undefined);
    assert.equal((await store().install(pathToFileURL(packed.file).href)).package.version, '1.0.0');
    assert.equal((await store().install(`./${path.basename(packed.file)}`, { cwd: dirRepo })).package.version, '1.0.0');
    await rejectsWith(store().install(path.join(work.dir, 'nope.tgz')), 'PACKAGE_NOT_FOUND');
  });

  it('an index that is not valid is refused with its problems', async () => {
    const bad = path.join(work.dir, 'bad-index');
    for (const [text, problem] of [
      ['{ "format": 1, "packages": [ { "name": "x", "version": "1.0.0", "url": "x.tgz", "sha256": "zz" } ] }', /sha256/],
      ['{ "format": 1, "packages": [], "mirror": "elsewhere" }', /unknown key "mirror"/],
      ['{ "format": 2, "packages": [] }', /format/],
      ['not json', /not JSON/],
    ] as const) {
      writeFileSync(path.join(work.dir, 'index.json'), text);
      copyFileSync(path.join(work.dir, 'index.json'), `${bad}.json`);
      const error = await rejectsWith(store().install('x', { repositories: [`${bad}.json`] }), 'PACKAGE_INDEX_INVALID');
      assert.match(error.message, problem);
    }
  });
});

describe('HTTP repositories', () => {
  it('an http URL of a tarball, with its sidecars, signed, reporting progress', async () => {
    const packed = packs['beta@1.0.0'];
    assert.ok(packed !== undefined);
    const events: ProgressEvent[] = [];
    const s = store({ trusted: true });
    const result = await s.install(`${server.url}/${path.basename(packed.file)}`, { onProgress: (event) => events.push(event) });
    assert.equal(result.package.receipt.key_id, keys.key_id);
    assert.equal(result.package.receipt.source, `${server.url}/${path.basename(packed.file)}`);
    const downloads = events.filter((event) => event.phase === 'download');
    assert.ok(downloads.length > 0);
    assert.equal(downloads.at(-1)?.bytes, packed.size);
    assert.equal(downloads.at(-1)?.total, packed.size);
    assert.ok(downloads.every((event, i) => i === 0 || event.bytes >= (downloads[i - 1]?.bytes ?? 0)));
    assert.equal(events.filter((event) => event.phase === 'unpack').at(-1)?.bytes, packed.size);
  });

  it('an http index (relative urls, signatures in the index), by name and range', async () => {
    const beta0 = packs['beta@1.0.0'];
    const beta1 = packs['beta@1.1.0'];
    routes.set('/repo/index.json', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(index([entry('beta@1.0.0', { url: `../${path.basename(beta0?.file ?? '')}`, signature: beta0?.signature }), entry('beta@1.1.0', { url: `/${path.basename(beta1?.file ?? '')}`, signature: beta1?.signature })]));
    });
    const s = store({ trusted: true });
    assert.equal((await s.install('beta:~1.0', { repositories: [`${server.url}/repo/index.json`] })).package.version, '1.0.0');
    assert.equal((await s.install('beta', { repositories: [`${server.url}/repo/`] })).package.version, '1.1.0');
  });

  it('follows redirects, and names HTTP failures', async () => {
    routes.set('/moved.tgz', (_req, res) => res.writeHead(302, { location: `/${path.basename(packs['beta@1.1.0']?.file ?? '')}` }).end());
    routes.set('/broken.tgz', (_req, res) => res.writeHead(500).end('oops'));
    assert.equal((await store().install(`${server.url}/moved.tgz`)).package.version, '1.1.0');
    await rejectsWith(store().install(`${server.url}/missing-1.0.0.tgz`), 'PACKAGE_NOT_FOUND');
    const failed = await rejectsWith(store().install(`${server.url}/broken.tgz`), 'PACKAGE_DOWNLOAD_FAILED');
    assert.equal(failed.context.status, 500);
    const closed = await startServer(() => undefined);
    const url = `${closed.url}/gone.tgz`;
    await closed.close();
    await rejectsWith(store().install(url), 'PACKAGE_DOWNLOAD_FAILED');
  });

  it('refuses a download over the size limit, declared or not', async () => {
    const big = readFileSync(packs['beta@1.0.0']?.file ?? '');
    routes.set('/declared.tgz', (_req, res) => res.writeHead(200, { 'content-length': big.length }).end(big));
    routes.set('/chunked.tgz', (_req, res) => {
      res.writeHead(200);
      res.end(big);
    });
    const limits = { maxArchiveBytes: 10_000 };
    let s = store({ limits });
    await rejectsWith(s.install(`${server.url}/declared.tgz`), 'PACKAGE_TOO_LARGE');
    await assertEmpty(s);
    s = store({ limits });
    await rejectsWith(s.install(`${server.url}/chunked.tgz`), 'PACKAGE_TOO_LARGE');
    await assertEmpty(s);
  });

  it('detects a download cut in the middle: short of Content-Length, an unfinished chunked body, a short index size', async () => {
    const body = readFileSync(packs['beta@1.0.0']?.file ?? '');
    const half = body.subarray(0, Math.floor(body.length / 2));
    routes.set('/cut-length.tgz', (req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(half, () => req.socket.destroy());
    });
    routes.set('/cut-chunked.tgz', (req, res) => {
      res.writeHead(200);
      res.write(half, () => req.socket.destroy());
    });
    // No length, no chunking: the body ends when the connection does, so the cut looks clean.
    routes.set('/cut-eof.tgz', (req, res) => {
      res.useChunkedEncodingByDefault = false;
      res.shouldKeepAlive = false;
      res.writeHead(200, { connection: 'close' });
      res.write(half, () => req.socket.end());
    });
    for (const name of ['cut-length', 'cut-chunked']) {
      const s = store();
      const error = await rejectsWith(s.install(`${server.url}/${name}.tgz`), 'PACKAGE_DOWNLOAD_TRUNCATED');
      assert.ok(Number(error.context.received) < body.length);
      await assertEmpty(s);
    }
    routes.set('/cut/index.json', (_req, res) => res.writeHead(200).end(index([entry('beta@1.0.0', { url: '/cut-eof.tgz' })])));
    const s = store();
    await rejectsWith(s.install('beta', { repositories: [`${server.url}/cut/index.json`] }), 'PACKAGE_DOWNLOAD_TRUNCATED');
    await assertEmpty(s);
    // Without a size in the index, the checksum catches it.
    routes.set('/cut2/index.json', (_req, res) => res.writeHead(200).end(index([entry('beta@1.0.0', { url: '/cut-eof.tgz', size: undefined })])));
    await rejectsWith(store().install('beta', { repositories: [`${server.url}/cut2/index.json`] }), 'PACKAGE_CHECKSUM_MISMATCH');
  });

  it('times out a stalled server, and a whole install that runs too long', async () => {
    const body = readFileSync(packs['beta@1.0.0']?.file ?? '');
    const stalled: ServerResponse[] = [];
    routes.set('/stall-headers.tgz', (_req, res) => void stalled.push(res));
    routes.set('/stall-body.tgz', (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.write(body.subarray(0, 1000));
      stalled.push(res);
    });
    const drips: NodeJS.Timeout[] = [];
    routes.set('/drip.tgz', (_req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      let sent = 0;
      const drip = setInterval(() => {
        res.write(body.subarray(sent, sent + 100));
        sent += 100;
      }, 20);
      drips.push(drip);
      res.on('close', () => clearInterval(drip));
    });
    try {
      for (const name of ['stall-headers', 'stall-body']) {
        const s = store({ limits: { idleTimeoutMs: 300 } });
        await rejectsWith(s.install(`${server.url}/${name}.tgz`), 'PACKAGE_DOWNLOAD_TIMEOUT');
        await assertEmpty(s);
      }
      const s = store({ limits: { idleTimeoutMs: 5_000 } });
      await rejectsWith(s.install(`${server.url}/drip.tgz`, { timeoutMs: 400 }), 'PACKAGE_INSTALL_TIMEOUT');
      await assertEmpty(s);
    } finally {
      for (const drip of drips) clearInterval(drip);
      for (const res of stalled) res.destroy();
    }
  });

  it('an install aborted by its caller stops and leaves nothing', async () => {
    routes.set('/never.tgz', () => undefined);
    const s = store();
    const controller = new AbortController();
    const pending = s.install(`${server.url}/never.tgz`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await rejectsWith(pending, 'PACKAGE_INSTALL_ABORTED');
    await assertEmpty(s);
  });

  it('refuses an archive that is not what the index says (name, checksum)', async () => {
    routes.set('/liar/index.json', (_req, res) => {
      res.writeHead(200).end(index([entry('beta@1.1.0', { name: 'delta' }), entry('beta@1.0.0', { name: 'epsilon', sha256: 'e'.repeat(64) })]));
    });
    await rejectsWith(store().install('delta', { repositories: [`${server.url}/liar/index.json`] }), 'PACKAGE_NAME_MISMATCH');
    await rejectsWith(store().install('epsilon', { repositories: [`${server.url}/liar/index.json`] }), 'PACKAGE_CHECKSUM_MISMATCH');
  });

  it('https with a private CA given as `ca`; without it the certificate is refused', async (t) => {
    const dir = path.join(work.dir, 'tls');
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', `${dir}-key.pem`, '-out', `${dir}-cert.pem`], { stdio: 'pipe' });
    } catch {
      t.skip('openssl cannot make a test certificate here');
      return;
    }
    const cert = readFileSync(`${dir}-cert.pem`, 'utf8');
    const body = readFileSync(packs['beta@1.1.0']?.file ?? '');
    const tls = https.createServer({ key: readFileSync(`${dir}-key.pem`), cert }, (req, res) => {
      if (req.url === '/beta-1.1.0.tgz') res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    work.onClose(() => new Promise<void>((resolve) => {
      tls.closeAllConnections();
      tls.close(() => resolve());
    }));
    const url = `https://127.0.0.1:${(tls.address() as AddressInfo).port}/beta-1.1.0.tgz`;
    await rejectsWith(store().install(url), 'PACKAGE_DOWNLOAD_FAILED');
    count += 1;
    const trusting = new PackageStore({ stateDir: path.join(work.dir, `state-${count}`), ca: cert });
    assert.equal((await trusting.install(url)).package.version, '1.1.0');
  });
});
