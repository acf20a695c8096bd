/**
 * The local files a module runs: its file and every file it imports by a relative path, followed
 * through static imports, `export ... from`, dynamic `import('./x')` with a literal, and
 * `require('./x')`. Type-only imports are skipped (they are erased), packages are not followed
 * (node_modules does not change under an edit loop). The same parser `hsu validate` uses.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { init, parse } from 'es-module-lexer';

/** Enough for any real module graph; a bound so a pathological tree cannot stall a restart. */
const MAX_FILES = 2_000;
const TRY_EXTENSIONS = ['', '.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.json', '/index.js', '/index.ts', '/index.mjs'];
const REQUIRE = /\brequire\s*\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g;

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** A relative or absolute specifier as a file path, or undefined for a package or a missing file. */
export function resolveLocal(specifier: string, fromFile: string): string | undefined {
  let target: string;
  if (specifier.startsWith('file:')) target = fileURLToPath(specifier);
  else if (specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')) target = path.resolve(path.dirname(fromFile), specifier.replace(/[?#].*$/, ''));
  else return undefined;
  if (target.split(path.sep).includes('node_modules')) return undefined;
  for (const extension of TRY_EXTENSIONS) if (isFile(target + extension)) return target + extension;
  return undefined;
}

/** Specifiers a file imports at run time (not the type-only ones). */
export function runtimeSpecifiers(file: string, source: string): string[] {
  const out: string[] = [];
  for (const match of source.matchAll(REQUIRE)) if (match[2] !== undefined) out.push(match[2]);
  if (/\.(json|cjs)$/.test(file)) return out;
  try {
    const [imports] = parse(source, file);
    for (const entry of imports) {
      if ('typeOnly' in entry && entry.typeOnly === true) continue;
      if (typeof entry.specifier === 'string') out.push(entry.specifier);
    }
  } catch {
    // A file that does not parse is still watched; its imports are found once it is fixed.
  }
  return out;
}

export async function localImportGraph(entry: string): Promise<Set<string>> {
  await init;
  const seen = new Set<string>();
  const queue = [path.resolve(entry)];
  while (queue.length > 0 && seen.size < MAX_FILES) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!existsSync(file)) continue;
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const specifier of runtimeSpecifiers(file, source)) {
      const resolved = resolveLocal(specifier, file);
      if (resolved !== undefined && !seen.has(resolved)) queue.push(resolved);
    }
  }
  return seen;
}
