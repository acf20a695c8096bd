// Shared by the package tests: scratch dirs, package trees and real archives built on the spot,
// raw tar headers for archives no honest tool would write, and a loopback HTTP server.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { KeyObject } from 'node:crypto';
import { packPackage } from '../../src/packages/index.js';
import type { PackResult } from '../../src/packages/index.js';

export function scratch(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `hsu-pkg-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export type TreeEntry = string | { content: string | Buffer; mode?: number } | { symlink: string };

export function writeTree(root: string, files: Readonly<Record<string, TreeEntry>>): void {
  for (const [relative, entry] of Object.entries(files)) {
    const file = path.join(root, relative);
    mkdirSync(path.dirname(file), { recursive: true });
    if (typeof entry === 'string') writeFileSync(file, entry);
    else if ('symlink' in entry) symlinkSync(entry.symlink, file);
    else {
      writeFileSync(file, entry.content);
      if (entry.mode !== undefined) chmodSync(file, entry.mode);
    }
  }
}

export interface PackageSpec {
  name: string;
  version: string;
  types?: ('process' | 'module')[];
  dependencies?: Record<string, string>;
  /** Extra manifest lines, appended as written. */
  extra?: string;
  files?: Record<string, TreeEntry>;
}

/** A package directory: manifest plus a runnable executable and module for the declared types. */
export function packageDir(base: string, spec: PackageSpec): string {
  const dir = path.join(base, `src-${spec.name}-${spec.version}-${Math.random().toString(16).slice(2, 8)}`);
  const types = spec.types ?? ['process', 'module'];
  const lines = [`name: ${spec.name}`, `version: ${spec.version}`, `description: test package ${spec.name}`, `supported_types: [${types.join(', ')}]`];
  const files: Record<string, TreeEntry> = {};
  if (types.includes('process')) {
    lines.push('process:', '  executable_path: bin/run', '  args: ["--from-package"]');
    files['bin/run'] = { content: `#!/bin/sh\necho "run ${spec.name}@${spec.version} $*"\nexec sleep 30\n`, mode: 0o755 };
  }
  if (types.includes('module')) {
    lines.push('module:', '  module_path: lib/module.mjs', '  entry_point: create');
    files['lib/module.mjs'] = `export const create = () => ({ info: { name: '${spec.name}', version: '${spec.version}' }, start() {}, actions: { version: () => '${spec.version}' } });\n`;
  }
  const deps = Object.entries(spec.dependencies ?? {});
  if (deps.length > 0) lines.push('dependencies:', ...deps.map(([name, range]) => `  - { name: ${name}, version: "${range}" }`));
  if (spec.extra !== undefined) lines.push(spec.extra);
  writeTree(dir, { ...files, ...spec.files, 'package.yaml': `${lines.join('\n')}\n` });
  return dir;
}

/** A real .tgz (with its .sha256 sidecar, and .sig when a key is given) in `outDir`. */
export async function buildPackage(outDir: string, spec: PackageSpec, privateKey?: KeyObject): Promise<PackResult> {
  mkdirSync(outDir, { recursive: true });
  return packPackage(packageDir(outDir, spec), { outDir, ...(privateKey === undefined ? {} : { privateKey }) });
}

export interface RawEntry {
  name: string;
  /** tar typeflag: '0' file, '1' hard link, '2' symlink, '3' char device, '4' block device, '5' dir, '6' FIFO. */
  type?: string;
  body?: string | Buffer;
  linkname?: string;
  mode?: number;
}

/** A ustar header written byte by byte, checksum included, for archives tar libraries refuse to make. */
function rawHeader(entry: RawEntry, size: number): Buffer {
  const header = Buffer.alloc(512, 0);
  const octal = (value: number, width: number): string => `${value.toString(8).padStart(width - 1, '0')}\0`;
  header.write(entry.name, 0, 100, 'utf8');
  header.write(octal(entry.mode ?? 0o644, 8), 100, 'ascii');
  header.write(octal(0, 8), 108, 'ascii');
  header.write(octal(0, 8), 116, 'ascii');
  header.write(octal(size, 12), 124, 'ascii');
  header.write(octal(Math.floor(Date.now() / 1000), 12), 136, 'ascii');
  header.write('        ', 148, 'ascii');
  header.write(entry.type ?? '0', 156, 'ascii');
  header.write(entry.linkname ?? '', 157, 100, 'utf8');
  header.write('ustar\0', 257, 'ascii');
  header.write('00', 263, 'ascii');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return header;
}

export function rawTgz(entries: readonly RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = Buffer.from(entry.body ?? '');
    parts.push(rawHeader(entry, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

export const VALID_MANIFEST = 'name: evil\nversion: 1.0.0\nsupported_types: [module]\nmodule:\n  module_path: lib/m.mjs\n';

/** Every path under `dir`, relative, sorted (directories included). */
export function treeOf(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).map(String).sort();
  } catch {
    return [];
  }
}

export interface TestServer {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port; close() also ends open connections. */
export async function startServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Counts of active resources by kind (timers, sockets, servers, child processes, fs requests). */
export function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  return counts;
}

/** Nothing of ours still active: no kind of resource has more instances than in `baseline`. */
export async function assertNoLeaks(baseline: Map<string, number>): Promise<void> {
  const extraNow = (): string[] => [...resourceCounts()].filter(([kind, count]) => count > (baseline.get(kind) ?? 0)).map(([kind, count]) => `${kind} x${count - (baseline.get(kind) ?? 0)}`);
  // A closed handle leaves the list a turn or two of the event loop later; a leak never does.
  let extra = extraNow();
  for (let turn = 0; turn < 100 && extra.length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, turn < 10 ? 0 : 10));
    extra = extraNow();
  }
  assert.deepEqual(extra, [], `resources still active: ${extra.join(', ')}`);
}

/** Asserts an async call rejects with an hsu error of `code` and returns it for further checks. */
export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<Error & { code: string; context: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    const err = error as Error & { code: string; context: Record<string, unknown> };
    assert.equal(err.code, `HSU_ERR_${code}`, `expected HSU_ERR_${code}, got ${String(err.code)}: ${err.message}`);
    return err;
  }
  assert.fail(`expected HSU_ERR_${code}, but it resolved`);
}

/**
 * A scratch directory for the whole test file. At the end, the closers registered with `onClose`
 * run (newest first), the directory is removed, and then nothing this file started (servers,
 * sockets, timers, children) may still be active.
 */
export function suiteScratch(prefix: string): { dir: string; onClose(closer: () => unknown): void } {
  const work = scratch(prefix);
  const closers: (() => unknown)[] = [];
  let baseline = new Map<string, number>();
  before(() => {
    baseline = resourceCounts();
  });
  after(async () => {
    for (const closer of closers.reverse()) await closer();
    work.remove();
    await assertNoLeaks(baseline);
  });
  return { dir: work.dir, onClose: (closer) => void closers.push(closer) };
}
