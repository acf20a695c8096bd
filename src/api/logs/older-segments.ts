/**
 * `hsu logs -n 500` right after a rotation: the newest segment may hold only a few lines, the rest
 * are in the segments before it. This continues a tail into the older numbered segments of the
 * same stream (`<id>.out.NNNNNN.log`, `.log.gz` once compressed), newest first, until enough lines
 * are found. Only files the master's own link scheme names are read, and only regular files.
 */
import { readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { parseSegmentName } from '../../runtimes/output/segment-names.js';
import { openLogFile } from './files.js';

const gunzipAsync = promisify(gunzip);

export interface OlderSegment {
  readonly file: string;
  readonly compressed: boolean;
}

/** The segments before the one `link` names, newest first; none when `link` is a plain file (no rotation). */
export async function olderSegments(link: string): Promise<OlderSegment[]> {
  const target = await readlink(link).catch(() => undefined);
  const current = target === undefined ? undefined : parseSegmentName(target);
  const key = path.basename(link, '.log');
  if (current?.key !== key) return [];
  const dir = path.dirname(link);
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .map((name) => ({ name, parsed: parseSegmentName(name) }))
    .filter((s) => s.parsed?.key === key && s.parsed.number < current.number)
    .sort((a, b) => b.parsed!.number - a.parsed!.number)
    .map((s) => ({ file: path.join(dir, s.name), compressed: s.parsed!.compressed }));
}

/** The last `lines` lines of a compressed segment; a file larger than `maxBytes` (packed or unpacked) is not read. */
export async function tailCompressed(file: string, lines: number, maxBytes: number): Promise<{ lines: string[]; truncated: boolean } | undefined> {
  const handle = await openLogFile(file);
  if (handle === undefined) return undefined;
  try {
    if ((await handle.stat()).size > maxBytes) return undefined;
    const text = (await gunzipAsync(await handle.readFile(), { maxOutputLength: maxBytes })).toString('utf8');
    const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text === '' ? [] : text.split('\n');
    return { lines: all.slice(-lines), truncated: all.length > lines };
  } catch {
    return undefined; // larger than maxBytes unpacked, or damaged: the tail stops here
  } finally {
    await handle.close();
  }
}
