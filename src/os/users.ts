/**
 * User and group names to ids, from /etc/passwd and /etc/group, then `getent` for names that live
 * in NSS (LDAP, sssd) only. Unknown names are coded errors, found before anything is spawned.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hsuError } from '../errors.js';

export interface UserEntry {
  readonly name: string;
  readonly uid: number;
  /** The primary group: the gid a process of this user gets when no group is configured. */
  readonly gid: number;
  readonly home: string;
  /** False for a bare uid with no passwd entry: it has no supplementary groups to initialise. */
  readonly listed: boolean;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
}

/** Colon-separated databases: the row whose field 0 is the name, or field 2 is the numeric id. */
function findRow(text: string, key: string | number): string[] | undefined {
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    if (typeof key === 'number' ? Number(fields[2]) === key && fields[2] !== '' : fields[0] === key) return fields;
  }
  return undefined;
}

function lookup(database: 'passwd' | 'group', file: string, key: string | number): string[] | undefined {
  try {
    const row = findRow(readFileSync(file, 'utf8'), key);
    if (row !== undefined) return row;
  } catch {
    // no such file (minimal container): getent may still know
  }
  const result = spawnSync('getent', [database, String(key)], { encoding: 'utf8', timeout: 5_000 });
  return result.status === 0 ? findRow(result.stdout, key) : undefined;
}

/** A numeric string or number is an id; anything else a name. */
function asKey(value: string | number): string | number {
  return typeof value === 'number' || /^\d+$/.test(value) ? Number(value) : value;
}

export interface LookupFiles {
  readonly passwd?: string;
  readonly group?: string;
}

export function resolveUser(user: string | number, files: LookupFiles = {}): UserEntry {
  const key = asKey(user);
  const row = lookup('passwd', files.passwd ?? '/etc/passwd', key);
  if (row === undefined) {
    // A bare uid without a passwd entry is valid for the kernel (containers do it); keep gid = uid.
    if (typeof key === 'number' && Number.isSafeInteger(key)) return { name: String(key), uid: key, gid: key, home: '/', listed: false };
    throw hsuError('LAUNCH_UNKNOWN_USER', `no user named ${JSON.stringify(user)} in /etc/passwd or NSS`, { user });
  }
  return { name: row[0] ?? String(user), uid: Number(row[2]), gid: Number(row[3]), home: row[5] ?? '/', listed: true };
}

export function resolveGroup(group: string | number, files: LookupFiles = {}): GroupEntry {
  const key = asKey(group);
  const row = lookup('group', files.group ?? '/etc/group', key);
  if (row === undefined) {
    if (typeof key === 'number' && Number.isSafeInteger(key)) return { name: String(key), gid: key };
    throw hsuError('LAUNCH_UNKNOWN_GROUP', `no group named ${JSON.stringify(group)} in /etc/group or NSS`, { group });
  }
  return { name: row[0] ?? String(group), gid: Number(row[2]) };
}
