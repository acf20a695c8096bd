/**
 * Installing a 50 MB package (20 MB of incompressible blobs, 30 MB of JS text, 620 files) beside
 * its floor, `tar -xzf` of the same archive (a process of its own, gzip included), and the peer a
 * user would reach for over HTTP, `curl | tar -xz`. hsu does more than either: it copies and
 * hashes the archive, checks every entry, validates package.yaml, writes a receipt and renames.
 *
 * Samples alternate floor and subject (ABBA after a warm-up) so outside load hits both alike;
 * every sample unpacks into a fresh directory and the result is removed untimed.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { extract } from 'tar';
import { generateSigningKeys, PackageStore, packPackage, parsePrivateKey } from '../src/packages/index.js';
import { note, scratchDir, verdict, type Row } from './common.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';

const run = promisify(execFile);
const SAMPLES = 8;
const MB = 2 ** 20;

function buildTree(root: string): void {
  mkdirSync(path.join(root, 'assets'), { recursive: true });
  mkdirSync(path.join(root, 'lib'), { recursive: true });
  mkdirSync(path.join(root, 'bin'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(path.join(root, 'assets', `blob-${i}.bin`), randomBytes(MB));
  const line = (n: number): string => `export function handler${n}(input) { return { ok: true, n: ${n}, input, at: Date.now() }; }\n`;
  for (let i = 0; i < 600; i++) {
    let text = '';
    for (let n = 0; text.length < 50 * 1024; n++) text += line(i * 1000 + n);
    writeFileSync(path.join(root, 'lib', `module-${i}.mjs`), text);
  }
  writeFileSync(path.join(root, 'bin', 'server'), '#!/bin/sh\nexec node "$(dirname "$0")/../lib/module-0.mjs"\n');
  chmodSync(path.join(root, 'bin', 'server'), 0o755);
  writeFileSync(
    path.join(root, 'package.yaml'),
    'name: big-service\nversion: 1.0.0\nsupported_types: [process, module]\nprocess:\n  executable_path: bin/server\nmodule:\n  module_path: lib/module-0.mjs\n  entry_point: handler0\n',
  );
}

async function timed(task: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await task();
  return performance.now() - start;
}

export async function benchPackageInstall(): Promise<Row[]> {
  const scratch = scratchDir('packages');
  const server = http.createServer();
  try {
    const tree = path.join(scratch.dir, 'tree');
    buildTree(tree);
    const packed = await packPackage(tree, { outDir: scratch.dir });
    const keys = generateSigningKeys();
    mkdirSync(path.join(scratch.dir, 'signed'));
    const signed = await packPackage(tree, { file: path.join(scratch.dir, 'signed', 'big-service-1.0.0.tgz'), privateKey: parsePrivateKey(keys.private_key_pem) });
    const body = readFileSync(packed.file);
    note(`packages: 50 MB package, archive ${(packed.size / MB).toFixed(1)} MB, ${SAMPLES} samples per subject (ABBA)...`);
    server.on('request', (req, res) => {
      if (req.url === '/big-service-1.0.0.tgz') res.writeHead(200, { 'content-length': body.length }).end(body);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big-service-1.0.0.tgz`;

    let slot = 0;
    const fresh = (): string => {
      const dir = path.join(scratch.dir, `run-${slot++}`);
      mkdirSync(dir);
      return dir;
    };
    const subjects = {
      tar: async (dir: string) => run('tar', ['-xzf', packed.file, '-C', dir]),
      nodeTar: async (dir: string) => extract({ file: packed.file, cwd: dir, preserveOwner: false }),
      hsu: async (dir: string) => new PackageStore({ stateDir: dir }).install(packed.file),
      hsuSigned: async (dir: string) => new PackageStore({ stateDir: dir, trustedKeys: [keys.public_key_base64] }).install(signed.file),
      curl: async (dir: string) => run('sh', ['-c', `curl -sf "$0" | tar -xzf - -C "$1"`, url, dir]),
      hsuHttp: async (dir: string) => new PackageStore({ stateDir: dir }).install(url),
    };
    type Name = keyof typeof subjects;
    const samples: Record<Name, number[]> = { tar: [], nodeTar: [], hsu: [], hsuSigned: [], curl: [], hsuHttp: [] };
    const measure = async (name: Name, keep: boolean): Promise<void> => {
      const dir = fresh();
      const ms = await timed(() => subjects[name](dir));
      rmSync(dir, { recursive: true, force: true });
      if (keep) samples[name].push(ms);
    };
    const order: Name[] = ['tar', 'hsu', 'nodeTar', 'hsuSigned', 'curl', 'hsuHttp'];
    for (const name of order) await measure(name, false);
    for (let i = 0; i < SAMPLES; i++) {
      for (const name of i % 2 === 0 ? order : [...order].reverse()) await measure(name, true);
    }

    const p50 = (name: Name): number => summarize(samples[name]).p50;
    const spread = (name: Name): string => {
      const s = summarize(samples[name]);
      return `${fmtMs(s.p90)} / ${fmtMs(s.p99)}`;
    };
    const ratio = p50('hsu') / p50('tar');
    note(`  p50: tar -xzf ${fmtMs(p50('tar'))}, node-tar ${fmtMs(p50('nodeTar'))}, hsu install ${fmtMs(p50('hsu'))}, signed ${fmtMs(p50('hsuSigned'))}; curl + tar ${fmtMs(p50('curl'))}, hsu install over http ${fmtMs(p50('hsuHttp'))}`);
    return [
      { name: 'package install 50 MB (.tgz file)', value: fmtMs(p50('hsu')), spread: spread('hsu'), floor: `${fmtMs(p50('tar'))} tar -xzf`, ratio: fmtRatio(ratio), target: '≤ 1.3x tar -xzf', status: verdict(ratio <= 1.3) },
      { name: 'package install 50 MB (vs node-tar extract)', value: fmtMs(p50('hsu')), spread: spread('hsu'), floor: `${fmtMs(p50('nodeTar'))} node-tar`, ratio: fmtRatio(p50('hsu') / p50('nodeTar')), target: 'report', status: 'info' },
      { name: 'package install 50 MB signed (trusted key)', value: fmtMs(p50('hsuSigned')), spread: spread('hsuSigned'), floor: `${fmtMs(p50('tar'))} tar -xzf`, ratio: fmtRatio(p50('hsuSigned') / p50('tar')), target: 'report', status: 'info' },
      { name: 'package install 50 MB (http loopback)', value: fmtMs(p50('hsuHttp')), spread: spread('hsuHttp'), floor: `${fmtMs(p50('curl'))} curl + tar -xz`, ratio: fmtRatio(p50('hsuHttp') / p50('curl')), target: 'report', status: 'info' },
    ];
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    scratch.remove();
  }
}
