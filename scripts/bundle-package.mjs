// Bundles the `hsu` binary and the package's public entries in one esbuild run, into
// dist/src/bundle/: `cli.js` (dist/src/cli/main.js) and `index.js`, `worker.js`, `core.js`,
// `messaging.js`, `testing.js` (what package.json's exports name), zod included, whitespace and
// syntax minified, names kept. One run with code splitting puts every module in exactly one chunk,
// so a master from the binary, `import 'hsu'` and a plugin's `import 'hsu/worker'` all load the
// same copy of each module: one HsuError class, one instrumentation registry.
//
// Why a bundle: a master holds fewer module records and shorter sources, and zod's ~50 locale
// files (which every plain `import 'zod'` evaluates through `z.locales`) are shaken out. Measured:
// `hsu run` with 20 processes 82 -> 77 MB of RSS; `import 'hsu'` +34 -> +27 MB over a bare node (npm run bench, import cost).
// Runs after tsc; bin.js falls back to tsc's main.js if this is missing, and the `hsu-unbundled`
// export condition (`node --conditions=hsu-unbundled`) gives the library's tsc files.
//
// Each file's `import.meta.url` is rewritten to the URL of its tsc output, so whatever it finds
// next to itself (the thread and host entries, the dashboard's files, package.json, thread
// scripts) is found where it always was. Other packages stay external: pino runs workers from
// its own files, and the rest are loaded on first use from node_modules.
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

const OUT = 'dist/src/bundle';
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
  entryPoints: {
    cli: 'dist/src/cli/main.js',
    index: 'dist/src/index.js',
    worker: 'dist/src/worker/index.js',
    core: 'dist/src/mesh/index.js',
    messaging: 'dist/src/messaging/index.js',
    testing: 'dist/src/testing/index.js',
  },
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
