/**
 * The names of a stream's files in the log directory: numbered segments
 * `<id>.<out|err>.<NNNNNN>.log` (`.log.gz` once compressed) and the symlink `<id>.<out|err>.log`
 * that names the newest. Six digits, as GNU split writes them with `-d -a 6`.
 */

export type StreamSuffix = 'out' | 'err';

export const SEGMENT_DIGITS = 6;
/** The last number six digits can hold: split refuses to go past it ("output file suffixes exhausted"). */
export const MAX_SEGMENT = 10 ** SEGMENT_DIGITS - 1;

const SEGMENT_NAME = /^(.+)\.(\d{6})\.log(\.gz)?$/;

/** `api.out`: what every file of one stream starts with. */
export function streamKey(workerId: string, suffix: StreamSuffix): string {
  return `${workerId}.${suffix}`;
}

export function segmentName(key: string, n: number): string {
  return `${key}.${String(n).padStart(SEGMENT_DIGITS, '0')}.log`;
}

export function linkName(key: string): string {
  return `${key}.log`;
}

/** The prefix split is given: it appends the number and `.log` itself. */
export function splitPrefix(key: string): string {
  return `${key}.`;
}

export interface ParsedSegment {
  readonly key: string;
  readonly number: number;
  readonly compressed: boolean;
}

export function parseSegmentName(name: string): ParsedSegment | undefined {
  const match = SEGMENT_NAME.exec(name);
  if (match === null) return undefined;
  return { key: match[1]!, number: Number(match[2]), compressed: match[3] !== undefined };
}
