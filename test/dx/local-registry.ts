/**
 * An npm registry on loopback, so generated projects run a real `npm install` without the
 * network: hsu from the tarball `npm pack` made of this repository, and every other package at
 * the version this repository's lockfile pins, its tarball taken from npm's own cache (what
 * `npm ci` downloaded) or, failing that, packed from node_modules. Only what the lockfile holds is
 * served; anything else is a 404, so a template asking for a package hsu does not have fails here.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { create as createTar } from 'tar';

interface VersionEntry {
  readonly manifest: Record<string, unknown>;
  tarball: () => Promise<Buffer>;
  integrity: string;
}

const MANIFEST_KEYS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'peerDependenciesMeta', 'bin', 'engines', 'os', 'cpu', 'license'] as const;

function cachedTarball(integrity: string): string | undefined {
  const [algorithm, digest] = integrity.split('-', 2);
  if (algorithm === undefined || digest === undefined) return undefined;
  const hex = Buffer.from(digest, 'base64').toString('hex');
  const file = path.join(os.homedir(), '.npm', '_cacache', 'content-v2', algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
  return existsSync(file) ? file : undefined;
}

async function packDirectory(dir: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const entries = readdirSync(dir).filter((name) => name !== 'node_modules');
  const stream = createTar({ gzip: true, cwd: dir, prefix: 'package', portable: true }, entries);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function integrityOf(buffer: Buffer): string {
  return `sha512-${createHash('sha512').update(buffer).digest('base64')}`;
}

export class LocalRegistry {
  private readonly packages = new Map<string, Map<string, VersionEntry>>();
  readonly requests: string[] = [];
  private server: Server | undefined;
  url = '';

  /** Every package of `repoRoot`'s lockfile, plus hsu itself from `hsuTarball`. */
  constructor(repoRoot: string, hsuTarball: string) {
    const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where === '' || entry.link === true || typeof entry.version !== 'string') continue;
      const name = (entry.name as string | undefined) ?? where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const dir = path.join(repoRoot, where);
      const cached = typeof entry.integrity === 'string' ? cachedTarball(entry.integrity) : undefined;
      if (cached === undefined && !existsSync(path.join(dir, 'package.json'))) continue; // another platform's optional package
      const manifest: Record<string, unknown> = { name, version: entry.version };
      for (const key of MANIFEST_KEYS) if (entry[key] !== undefined) manifest[key] = entry[key];
      const version: VersionEntry = cached !== undefined
        ? { manifest, integrity: entry.integrity as string, tarball: () => Promise.resolve(readFileSync(cached)) }
        : { manifest, integrity: '', tarball: () => packDirectory(dir) };
      this.add(name, entry.version, version);
    }
    const own = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
    const tarball = readFileSync(hsuTarball);
    const manifest: Record<string, unknown> = { name: own.name, version: own.version };
    for (const key of MANIFEST_KEYS) if (own[key] !== undefined) manifest[key] = own[key];
    this.add(String(own.name), String(own.version), { manifest, integrity: integrityOf(tarball), tarball: () => Promise.resolve(tarball) });
  }

  private add(name: string, version: string, entry: VersionEntry): void {
    const versions = this.packages.get(name) ?? new Map<string, VersionEntry>();
    if (!versions.has(version)) versions.set(version, entry);
    this.packages.set(name, versions);
  }

  private async packument(name: string): Promise<Record<string, unknown> | undefined> {
    const versions = this.packages.get(name);
    if (versions === undefined) return undefined;
    const out: Record<string, unknown> = {};
    for (const [version, entry] of versions) {
      if (entry.integrity === '') {
        const buffer = await entry.tarball();
        entry.integrity = integrityOf(buffer);
        entry.tarball = () => Promise.resolve(buffer);
      }
      out[version] = { ...entry.manifest, dist: { tarball: `${this.url}/-/tarballs/${encodeURIComponent(name)}/${version}.tgz`, integrity: entry.integrity } };
    }
    const latest = [...versions.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).at(-1);
    return { name, 'dist-tags': { latest }, versions: out };
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const url = decodeURIComponent((request.url ?? '/').split('?')[0] ?? '/');
      this.requests.push(url);
      const send = (status: number, body: Buffer | string, type: string): void => void response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
      const tarball = /^\/-\/tarballs\/(.+)\/([^/]+)\.tgz$/.exec(url);
      const work = tarball !== null
        ? (async () => {
            const entry = this.packages.get(tarball[1] as string)?.get(tarball[2] as string);
            if (entry === undefined) return send(404, '{}', 'application/json');
            send(200, await entry.tarball(), 'application/octet-stream');
          })()
        : (async () => {
            const doc = await this.packument(url.slice(1));
            send(doc === undefined ? 404 : 200, JSON.stringify(doc ?? { error: 'not found' }), 'application/json');
          })();
      work.catch((error: unknown) => send(500, String(error), 'text/plain'));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.server === undefined) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }
}
