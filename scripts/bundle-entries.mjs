// Bundles the thread and child-process host entries into one file each: loading an entry's graph of
// small ESM files cost ~7 ms of every thread or hosted start; one file loads in a fraction of that.
// Runs after tsc (npm run build); the runtimes fall back to tsc's unbundled entries if these are missing.
import { build } from 'esbuild';

await build({
  entryPoints: {
    'thread/thread-entry.bundle': 'src/runtimes/module/thread/thread-entry.ts',
    'host/host-entry.bundle': 'src/runtimes/module/host/host-entry.ts',
  },
  outdir: 'dist/src/runtimes/module',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Whitespace and syntax only: a smaller file parses faster on every start, and names stay as
  // written, so a hosted module's stack traces still read.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
