/**
 * One inotify watch per log directory, shared by every follower in it. A directory watch reports
 * both a new segment (rename) and a write to any file in it (change), so no per-file watch is
 * needed; sharing it means a write by one worker wakes that worker's follower only (events are
 * dispatched by the stream key in the file name), not every follower of the directory.
 */
import { watch, type FSWatcher } from 'node:fs';
import { parseSegmentName } from './segment-names.js';

/** `name` is the segment file the event is about; null when the kernel did not say (reread the directory). */
export type DirectoryListener = (name: string | null) => void;

interface Shared {
  readonly watcher: FSWatcher;
  readonly byKey: Map<string, Set<DirectoryListener>>;
}

const shared = new Map<string, Shared>();

/**
 * Calls `listener` for events about the segments of `key` in `dir`. Returns the disposer; its
 * promise resolves once the watch is really gone: libuv finishes closing a handle in the close
 * phase of the loop's turn, and a timer set now runs after that phase.
 */
export function watchSegments(dir: string, key: string, listener: DirectoryListener): () => Promise<void> {
  let entry = shared.get(dir);
  if (entry === undefined) entry = open(dir);
  let set = entry.byKey.get(key);
  if (set === undefined) entry.byKey.set(key, (set = new Set()));
  set.add(listener);
  const owner = entry;
  return () => {
    set.delete(listener);
    if (set.size === 0) owner.byKey.delete(key);
    if (owner.byKey.size > 0 || shared.get(dir) !== owner) return Promise.resolve();
    shared.delete(dir);
    owner.watcher.close();
    return new Promise((resolve) => setTimeout(resolve, 0));
  };
}

function open(dir: string): Shared {
  const byKey = new Map<string, Set<DirectoryListener>>();
  const watcher = watch(dir, (_event, filename) => {
    const name = typeof filename === 'string' ? filename : null;
    if (name === null) return notifyAll(byKey, null);
    const parsed = parseSegmentName(name);
    if (parsed === undefined) return;
    for (const listener of byKey.get(parsed.key) ?? []) listener(name);
  });
  const entry: Shared = { watcher, byKey };
  // The directory went away (or inotify failed): every follower rereads once, then waits for close.
  watcher.on('error', () => {
    if (shared.get(dir) === entry) shared.delete(dir);
    watcher.close();
    notifyAll(byKey, null);
  });
  shared.set(dir, entry);
  return entry;
}

function notifyAll(byKey: Map<string, Set<DirectoryListener>>, name: string | null): void {
  for (const set of byKey.values()) for (const listener of set) listener(name);
}
