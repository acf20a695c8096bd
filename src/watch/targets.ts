/**
 * What a worker is watched on. By default its code: a plugin module's file and local imports; a
 * Node script's file and local imports (what `node --watch` follows), including files given to
 * --import/--require; the working directory of any other executable. `watch.paths` replaces
 * that with files, directories or globs. Never watched: the master's log and state directories,
 * node_modules, .git, and `watch.ignore`.
 */
import path from 'node:path';
import picomatch from 'picomatch';
import type { WorkerConfig } from '../config/index.js';
import { DEFAULT_WATCH_DELAY_MS } from './schema.js';

export interface WatchTarget {
  readonly workerId: string;
  /** `code`: files found from these entries through their imports; `tree`: everything under roots that the globs (if any) match. */
  readonly kind: 'code' | 'tree';
  readonly entries: readonly string[];
  /** For `tree` with globs: what must match (absolute globs); empty: everything under the roots. */
  readonly globs: readonly string[];
  readonly delayMs: number;
  readonly ignored: (file: string) => boolean;
  /** Words for the log: "module file and its imports", "working directory /srv/api"... */
  readonly description: string;
}

export interface TargetContext {
  /** The config file's directory: relative watch paths resolve against it. */
  readonly baseDir: string;
  readonly logDir: string;
  readonly stateDir: string | undefined;
}

const NODE_BINARIES = /^(node|nodejs|node\d+|tsx|ts-node)$/;
const FLAGS_WITH_FILES = new Set(['-r', '--require', '--import', '--loader', '--experimental-loader']);
const GLOB_CHARS = /[*?[\]{}]/;

function isNodeExecutable(executable: string): boolean {
  return executable === process.execPath || NODE_BINARIES.test(path.basename(executable));
}

/** The script and preloaded files of a `node [flags] script args` command line. */
export function nodeScriptFiles(args: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (FLAGS_WITH_FILES.has(arg)) {
      const value = args[++i];
      if (value !== undefined && (value.startsWith('.') || value.startsWith('/'))) files.push(path.resolve(cwd, value));
      continue;
    }
    if (arg === '-e' || arg === '--eval' || arg === '-p' || arg === '--print') return [];
    if (arg.startsWith('-')) continue;
    files.push(path.resolve(cwd, arg));
    return files;
  }
  return [];
}

/** The static directory part of a glob (`src/**\/*.ts` -> `src`), where watching starts. */
export function globRoot(glob: string): string {
  const parts = glob.split('/');
  const index = parts.findIndex((part) => GLOB_CHARS.test(part));
  return index === -1 ? glob : parts.slice(0, index).join('/') || '/';
}

function ignoredBy(context: TargetContext, extra: readonly string[]): (file: string) => boolean {
  const fixed = [context.logDir, ...(context.stateDir === undefined ? [] : [context.stateDir])].map((dir) => path.resolve(dir));
  const globs = extra.map((glob) => (path.isAbsolute(glob) ? glob : path.join(context.baseDir, glob)));
  const match = globs.length === 0 ? () => false : picomatch(globs, { dot: true });
  return (file: string) => {
    const absolute = path.resolve(file);
    if (fixed.some((dir) => absolute === dir || absolute.startsWith(`${dir}${path.sep}`))) return true;
    const parts = absolute.split(path.sep);
    if (parts.includes('node_modules') || parts.includes('.git')) return true;
    return match(absolute) || match(path.relative(context.baseDir, absolute));
  };
}

/** The worker's target, or undefined when it is not watched (watch: false, a native module). */
export function watchTargetOf(worker: WorkerConfig, context: TargetContext): WatchTarget | undefined {
  const setting = worker.watch;
  if (setting === false) return undefined;
  const block = typeof setting === 'object' ? setting : undefined;
  const delayMs = block?.delay ?? DEFAULT_WATCH_DELAY_MS;
  const ignored = ignoredBy(context, block?.ignore ?? []);
  const base = { workerId: worker.id, delayMs, ignored };
  if (block?.paths !== undefined) {
    const absolute = block.paths.map((p) => (path.isAbsolute(p) ? p : path.join(context.baseDir, p)));
    const globs = absolute.filter((p) => GLOB_CHARS.test(p));
    const roots = absolute.map((p) => (GLOB_CHARS.test(p) ? globRoot(p) : p));
    return { ...base, kind: 'tree', entries: [...new Set(roots)], globs, description: `watch.paths ${block.paths.join(', ')}` };
  }
  const modulePath = worker.type === 'module' ? (worker.module.module_type === 'plugin' ? worker.module.module_path : undefined) : worker.module?.module_path;
  if (modulePath !== undefined) return { ...base, kind: 'code', entries: [modulePath], globs: [], description: `${path.relative(context.baseDir, modulePath)} and its local imports` };
  if (worker.type !== 'process' || worker.execution === undefined) return undefined;
  const cwd = worker.execution.working_directory ?? context.baseDir;
  const scripts = isNodeExecutable(worker.execution.executable_path) ? nodeScriptFiles(worker.execution.args, cwd) : [];
  if (scripts.length > 0) return { ...base, kind: 'code', entries: scripts, globs: [], description: `${scripts.map((s) => path.relative(context.baseDir, s)).join(', ')} and local imports` };
  return { ...base, kind: 'tree', entries: [cwd], globs: [], description: `working directory ${cwd}` };
}
