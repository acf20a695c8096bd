/**
 * Dependencies loaded on first use instead of at import. The master's import graph should pay for
 * what a master runs, not for every feature it could run: measured alone (`node dist/bench/run.js
 * import-cost`), yaml costs about 11 MB of RSS at import, semver 3.5 MB, cockatiel 3 MB and croner
 * 1.6 MB, and most masters never parse a cron expression, compare versions, (built from code) read
 * YAML or configure a circuit breaker.
 *
 * require() keeps these synchronous for the synchronous paths that need them (schema checks,
 * config parsing). yaml and semver are CommonJS, so an ESM `import` elsewhere gets the same module
 * instance; croner ships both builds, so every user of croner goes through {@link cronLib}, to load
 * one copy.
 */
import { createRequire } from 'node:module';
import type * as Cockatiel from 'cockatiel';
import type * as Croner from 'croner';
import type * as PromClient from 'prom-client';
import type * as Semver from 'semver';
import type * as Yaml from 'yaml';

const require = createRequire(import.meta.url);

function onFirstUse<T>(specifier: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(specifier) as T);
}

export const semverLib = onFirstUse<typeof Semver>('semver');
export const yamlLib = onFirstUse<typeof Yaml>('yaml');
export const cronLib = onFirstUse<typeof Croner>('croner');
/** CommonJS: a user's own `import { Counter } from 'prom-client'` gets the same registry classes. */
export const promClientLib = onFirstUse<typeof PromClient>('prom-client');
/** ESM only: require(esm) returns the same namespace an `import` elsewhere gets. Loaded by a service with a breaker, bulkhead, attempt timeout or a retry that happens. */
export const cockatielLib = onFirstUse<typeof Cockatiel>('cockatiel');
