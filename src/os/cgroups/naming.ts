/**
 * Names of worker groups: `<prefix>.<instance>.<worker id>`. The instance tag names the master
 * (its pid and start time by default), so two masters never share a group and a later master can
 * tell a dead master's leftovers from a live one's.
 */
import { identityOf, type Identity } from '../proc-stat.js';

export const DEFAULT_PREFIX = 'hsu';
const INSTANCE = /^m(\d+)s(\d+)(?:n\d+)?$/;

/** The default tag of this master: m<pid>s<start ticks>, plus n<serial> for a second master in the same process. */
export function defaultInstanceTag(serial = 0): string {
  const self = identityOf(process.pid);
  return `m${process.pid}s${self?.startTimeTicks ?? 0}${serial > 0 ? `n${serial}` : ''}`;
}

export function groupName(prefix: string, instance: string, workerId: string): string {
  return `${prefix}.${instance}.${workerId}`;
}

export interface ParsedGroupName {
  readonly instance: string;
  readonly worker_id: string;
  /** The master that made it, when the tag is the default form. */
  readonly owner?: Identity;
}

export function parseGroupName(prefix: string, name: string): ParsedGroupName | undefined {
  if (!name.startsWith(`${prefix}.`)) return undefined;
  const rest = name.slice(prefix.length + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return undefined;
  const instance = rest.slice(0, dot);
  const workerId = rest.slice(dot + 1);
  const match = INSTANCE.exec(instance);
  return match === null
    ? { instance, worker_id: workerId }
    : { instance, worker_id: workerId, owner: { pid: Number(match[1]), startTimeTicks: Number(match[2]) } };
}
