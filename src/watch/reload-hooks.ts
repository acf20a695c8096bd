/**
 * Fresh code for an inline module after an edit. Node caches an ES module by its URL for the
 * life of the process, so a restarted inline worker would run the old code. Once watch mode bumps
 * a module's generation, a resolve hook gives its file a new URL (`?hsu_watch=<n>`) and passes
 * the same query to every local file that file imports, so the whole local graph is evaluated
 * anew while packages (node_modules, hsu itself) stay shared. Threads and hosted processes start
 * from a clean loader and need none of this. The old generation stays in memory (ES modules
 * cannot be unloaded): fine for a development loop, the reason watch mode is not for production.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';

const QUERY = 'hsu_watch';
const generations = new Map<string, number>();
let installed = false;

function withQuery(url: string, generation: number): string {
  const parsed = new URL(url);
  parsed.searchParams.set(QUERY, String(generation));
  return parsed.href;
}

function install(): void {
  if (installed) return;
  installed = true;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const result = nextResolve(specifier, context);
      if (!result.url.startsWith('file:') || result.url.includes('/node_modules/')) return result;
      const plain = result.url.replace(/[?#].*$/, '');
      const own = generations.get(plain);
      if (own !== undefined) return { ...result, url: withQuery(plain, own) };
      const inherited = context.parentURL === undefined ? null : new URL(context.parentURL).searchParams.get(QUERY);
      return inherited === null ? result : { ...result, url: withQuery(plain, Number(inherited)) };
    },
  });
}

/** The next import of `file` (and of its local imports) evaluates the code as it is now. */
export function bumpGeneration(file: string): void {
  install();
  const url = pathToFileURL(file).href;
  generations.set(url, (generations.get(url) ?? 0) + 1);
}
