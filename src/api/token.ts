/**
 * The API token: from HSU_TOKEN or the config (`token`, `token_file`), or generated on first start
 * into `<state_dir>/api.token` (mode 0600) and kept across restarts, so a script that read it once
 * keeps working. Compared in constant time; never logged (the server logs where it came from).
 */
import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hsuError } from '../errors.js';
import type { ResolvedApiSettings } from './config.js';

export const TOKEN_FILE_NAME = 'api.token';

export interface ApiToken {
  readonly value: string;
  /** Where it came from, for the log line: never the value itself. */
  readonly source: 'env' | 'config' | 'token_file' | 'generated' | 'state_dir';
  /** The file a client on this machine reads it from; undefined when only the environment has it. */
  readonly file: string | undefined;
}

/** Finds or creates the token the settings call for. */
export function obtainToken(settings: ResolvedApiSettings): ApiToken {
  const stateFile = path.join(settings.stateDir, TOKEN_FILE_NAME);
  if (settings.token !== undefined) {
    // An inline or environment token is still written to the state dir for the local CLI, unless it
    // came from the environment (whoever set HSU_TOKEN for the master can set it for the CLI).
    const fromEnv = settings.tokenFromEnv;
    if (!fromEnv) writeToken(stateFile, settings.token);
    return { value: settings.token, source: fromEnv ? 'env' : 'config', file: fromEnv ? undefined : stateFile };
  }
  if (settings.tokenFile !== undefined) return { value: readToken(settings.tokenFile), source: 'token_file', file: settings.tokenFile };
  const existing = tryReadToken(stateFile);
  if (existing !== undefined) return { value: existing, source: 'state_dir', file: stateFile };
  const value = randomBytes(32).toString('base64url');
  writeToken(stateFile, value);
  return { value, source: 'generated', file: stateFile };
}

/** True when `given` is the token; the time taken does not depend on where they differ. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined) return false;
  // Hashing first makes both sides the same length, so even the length is not leaked by timing.
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** The token from an `Authorization: Bearer <token>` header value. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

export function readToken(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw hsuError('API_TOKEN_UNUSABLE', `cannot read the API token from ${file}: ${(error as Error).message}`, { file }, error);
  }
  const token = text.trim();
  if (token.length < 16) throw hsuError('API_TOKEN_UNUSABLE', `the API token in ${file} is shorter than 16 characters`, { file });
  return token;
}

function tryReadToken(file: string): string | undefined {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600); // someone loosened it: tighten before use
    return readToken(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (error instanceof Error && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return undefined;
    throw error;
  }
}

function writeToken(file: string, value: string): void {
  try {
    writeFileSync(file, `${value}\n`, { mode: 0o600 });
    chmodSync(file, 0o600); // mode applies only on creation
  } catch (error) {
    throw hsuError('API_TOKEN_UNUSABLE', `cannot write the API token to ${file}: ${(error as Error).message}`, { file }, error);
  }
}
