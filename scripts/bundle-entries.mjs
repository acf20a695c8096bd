// Bundles the thread and child-process host entries into one file each: loading the entry's ~7 small
// ESM files cost ~7 ms of every thread or hosted start; one file loads in a fraction of that.
// Runs after tsc (npm run build); the runtimes fall back to tsc's unbundled entries if these are missing.
import { build } from 'esbuild';

await build({
  entryPoints: {
    'thread-entry.bundle': 'src/runtimes/thread-entry.ts',
    'host-entry.bundle': 'src/runtimes/host-entry.ts',
  },
  outdir: 'dist/src/runtimes',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: false,
  sourcemap: 'linked',
  logLevel: 'warning',
});
