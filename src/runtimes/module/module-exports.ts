/**
 * Which names a plugin file exports, found without running it (es-module-lexer parses the file;
 * importing it would run its top-level code). Used by `hsu validate`; what cannot be known this
 * way (CommonJS exports, `export *` from other files) is said, not guessed.
 */
import { readFileSync } from 'node:fs';

export type ExportScan =
  | { readonly ok: true; readonly names: readonly string[]; readonly reexportsAll: readonly string[] }
  | { readonly ok: false; readonly reason: string };

export async function scanExports(file: string): Promise<ExportScan> {
  if (file.endsWith('.cjs')) return { ok: false, reason: 'a CommonJS file: its exports are only known by running it' };
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    return { ok: false, reason: `cannot read it: ${(error as Error).message}` };
  }
  // Loaded here, not at import: only `hsu validate` scans exports, and no master needs the lexer.
  const { init, parse } = await import('es-module-lexer');
  await init;
  try {
    const [, exports, , hasModuleSyntax] = parse(source, file);
    if (!hasModuleSyntax) return { ok: false, reason: 'no import/export syntax: a CommonJS file, whose exports are only known by running it' };
    const names: string[] = [];
    const reexportsAll: string[] = [];
    for (const entry of exports) {
      if (entry.type === 'reexport-all') reexportsAll.push(entry.from);
      else if ('name' in entry && !entry.typeOnly) names.push(entry.name);
    }
    return { ok: true, names, reexportsAll };
  } catch (error) {
    return { ok: false, reason: `it does not parse: ${(error as Error).message}` };
  }
}
