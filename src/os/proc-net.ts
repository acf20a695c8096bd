/**
 * Listening TCP sockets from /proc/net/tcp and tcp6, and the processes that hold them, found by
 * the socket inode behind /proc/PID/fd/N -> "socket:[INODE]".
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { isPidName, readSmallFile } from './proc-files.js';

const TCP_LISTEN = '0A';

export interface ListeningSocket {
  readonly inode: number;
  readonly port: number;
  /** Dotted IPv4 or the raw 32-hex-digit IPv6 address, as the kernel prints it. */
  readonly address: string;
  readonly family: 4 | 6;
}

function ipv4(hex: string): string {
  // The kernel prints the address as a host-order (little-endian on x86/arm) 32-bit word.
  const n = Number.parseInt(hex, 16);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/** Parses one /proc/net/tcp{,6} table: the LISTEN rows. */
export function parseTcpTable(text: string, family: 4 | 6): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    const fields = line.trim().split(/\s+/);
    const [local, state, inode] = [fields[1], fields[3], fields[9]];
    if (local === undefined || state !== TCP_LISTEN || inode === undefined) continue;
    const [addr, portHex] = local.split(':');
    if (addr === undefined || portHex === undefined) continue;
    out.push({ inode: Number(inode), port: Number.parseInt(portHex, 16), address: family === 4 ? ipv4(addr) : addr, family });
  }
  return out;
}

export function listeningSockets(): ListeningSocket[] {
  return [
    ...parseTcpTable(readSmallFile('/proc/net/tcp') ?? '', 4),
    ...parseTcpTable(readSmallFile('/proc/net/tcp6') ?? '', 6),
  ];
}

/** pid -> for each process holding one of `inodes` open. One readlink per descriptor on the machine. */
export function socketOwners(inodes: ReadonlySet<number>): Map<number, number[]> {
  const owners = new Map<number, number[]>();
  if (inodes.size === 0) return owners;
  for (const name of readdirSync('/proc')) {
    if (!isPidName(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // exited, or not ours to look into
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${name}/fd/${fd}`);
      } catch {
        continue;
      }
      if (!target.startsWith('socket:[')) continue;
      const inode = Number(target.slice(8, -1));
      if (!inodes.has(inode)) continue;
      const list = owners.get(inode) ?? [];
      list.push(Number(name));
      owners.set(inode, list);
    }
  }
  return owners;
}
