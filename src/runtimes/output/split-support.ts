/**
 * Is there a GNU split that does what SplitWriter needs? Asked once per binary per master: its
 * `--version` must say GNU coreutils, and a real run must honour `-C` (line-bounded sizes) and
 * `--numeric-suffixes=FROM` (numbering continued from disk). busybox and BSD split do neither.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { which } from '../../os/which.js';

export interface SplitSupport {
  readonly available: boolean;
  /** Absolute path when found. */
  readonly binary: string;
  readonly version: string | null;
  /** Why split is not used, for diagnostics. */
  readonly reason: string | null;
}

const PROBE_TIMEOUT_MS = 5_000;
const cache = new Map<string, Promise<SplitSupport>>();

export function detectSplit(binary = 'split'): Promise<SplitSupport> {
  let found = cache.get(binary);
  if (found === undefined) {
    found = probe(binary);
    cache.set(binary, found);
  }
  return found;
}

async function probe(binary: string): Promise<SplitSupport> {
  const resolved = which(binary);
  const none = (reason: string, version: string | null = null): SplitSupport => ({ available: false, binary: resolved.path, version, reason });
  if (!resolved.executable) return none(`${binary}: ${resolved.exists ? 'not executable' : 'not found'}`);
  let version: string;
  try {
    version = (await run(resolved.path, ['--version'])).split('\n')[0] ?? '';
  } catch (err) {
    return none(`${resolved.path} --version failed: ${(err as Error).message}`);
  }
  if (!/GNU coreutils/.test(version)) return none(`${resolved.path} is not GNU coreutils split (${version})`, version);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-split-probe-'));
  try {
    await run(resolved.path, ['-C', '2', '-d', '-a', '6', '--numeric-suffixes=7', '--additional-suffix=.log', '-', path.join(dir, 'p.')], 'a\nb\n');
    const files = readdirSync(dir).sort();
    const ok = files.join(',') === 'p.000007.log,p.000008.log' && readFileSync(path.join(dir, files[0]!), 'utf8') === 'a\n' && readFileSync(path.join(dir, files[1]!), 'utf8') === 'b\n';
    if (!ok) return none(`${resolved.path} does not honour -C and --numeric-suffixes (wrote ${files.join(', ') || 'nothing'})`, version);
  } catch (err) {
    return none(`${resolved.path} -C ... --numeric-suffixes=7 failed: ${(err as Error).message}`, version);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { available: true, binary: resolved.path, version, reason: null };
}

function run(file: string, args: readonly string[], input?: string): Promise<string> {
  if (input === undefined) {
    return new Promise((resolve, reject) => {
      execFile(file, args, { timeout: PROBE_TIMEOUT_MS }, (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
    });
  }
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'ignore', 'pipe'], timeout: PROBE_TIMEOUT_MS });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.stdin.on('error', () => undefined); // a binary that exits without reading: its exit tells

    child.on('close', (code, signal) => (code === 0 ? resolve('') : reject(new Error(`exit ${signal ?? code}: ${stderr.trim()}`))));
    child.stdin.end(input);
  });
}
