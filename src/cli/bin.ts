#!/usr/bin/env node
import type * as MainModule from './main.js';
// Executable entry for the `hsu` bin. It checks the Node version before anything else loads:
// the rest of hsu uses Node >= 22.18 APIs, and a stack trace from deep inside is no way to say so.
const REQUIRED = [22, 18] as const;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < REQUIRED[0] || (major === REQUIRED[0] && minor < REQUIRED[1])) {
  process.stderr.write(
    `hsu: needs Node.js >= ${REQUIRED.join('.')} (Node 24 LTS recommended), this is ${process.version}; install it from https://nodejs.org or with \`npm i -D node@24\` and run hsu through npx\n`,
  );
  process.exit(1);
}
// V8's code cache on disk (Node's own, in the temp dir): a CLI run again and again (`hsu ls`)
// compiles its files once instead of on every run.
process.getBuiltinModule('node:module').enableCompileCache?.();
// A reader that went away (`hsu logs -f | head`) ends a client command quietly, as it ends `cat`.
// `hsu run` installs its own handler (its log sink counts what could not be written) and keeps running.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE' && process.stdout.listenerCount('error') === 1) process.exit(0);
});
// The bundle of main.js and its graph (scripts/bundle-package.mjs) when the build made one: fewer,
// smaller files, so a master holds several MB less, and the same module copies a plugin's
// `import 'hsu/worker'` loads. HSU_UNBUNDLED=1 runs tsc's files instead.
const bundle = new URL('../bundle/cli.js', import.meta.url);
// `--conditions=hsu-unbundled` gives plugins tsc's `hsu/worker`; the master then runs tsc's files
// too, so master and plugins keep sharing one copy of each module.
const libraryBundled = (() => {
  try {
    return import.meta.resolve('hsu') === new URL('../bundle/index.js', import.meta.url).href;
  } catch {
    return true;
  }
})();
const useBundle = process.env.HSU_UNBUNDLED !== '1' && libraryBundled && process.getBuiltinModule('node:fs').existsSync(bundle);
const { main } = (await import(useBundle ? bundle.href : './main.js')) as typeof MainModule;
// Exit explicitly once main() has decided: the code is the master's verdict, whatever else is pending.
process.exit(await main(process.argv.slice(2)));
