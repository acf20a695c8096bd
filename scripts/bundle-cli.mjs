// Bundles the `hsu` binary (dist/src/cli/main.js and everything it imports, zod included) into dist/src/cli/bundle/: one chunk per lazily loaded command, whitespace and syntax
// minified, names kept. A master from the binary then holds fewer module records and shorter
// sources: measured, `hsu run` with 20 processes 83 -> 77 MB of RSS. The library (`import 'hsu'`)
// stays tsc's files. Runs after tsc; bin.js falls back to the unbundled main.js if this is missing.
//
// Each file's `import.meta.url` is rewritten to the URL of its tsc output, so whatever it finds
// next to itself (the thread and host entries, the dashboard's files, package.json, thread
// scripts) is found where it always was. Other packages stay external: pino runs workers from
// its own files, and the rest are loaded on first use from node_modules.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const OUT = 'dist/src/cli/bundle';
// Not yaml: src/lazy-libs.ts loads it with require(), which a bundler cannot see, and a second,
// bundled copy for the files that import it would load beside it.
const BUNDLED_PACKAGES = new Set(['zod']);

const keepLocations = {
  name: 'keep-import-meta-url',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { external: true };
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { external: true };
    });
    b.onLoad({ filter: /[/\\]dist[/\\]src[/\\].*\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const relative = path.relative(path.resolve(OUT), args.path).split(path.sep).join('/');
      return { contents: source.replaceAll('import.meta.url', `new URL(${JSON.stringify(relative)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

await rm(OUT, { recursive: true, force: true });
const result = await build({
  entryPoints: { main: 'dist/src/cli/main.js' },
  outdir: OUT,
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minifyWhitespace: true,
  minifySyntax: true,
  // Error classes and functions keep the names they have in the source (esbuild would rename clashes).
  keepNames: true,
  sourcemap: 'linked',
  metafile: true,
  // A package bundled from CommonJS needs a real require() for built-ins in an ESM bundle.
  banner: { js: "import { createRequire as __hsuCreateRequire } from 'node:module'; const require = __hsuCreateRequire(import.meta.url);" },
  plugins: [keepLocations],
  logLevel: 'warning',
});
// Which sources each chunk holds: the client-loads test reads it to say which files a command loaded.
await writeFile(path.join(OUT, 'meta.json'), JSON.stringify(result.metafile.outputs));
