/**
 * Reading a PM2 ecosystem file in any of the shapes PM2 accepts: `ecosystem.config.js` / `.cjs`
 * (`module.exports = { apps: [...] }`), `.mjs` (`export default`), `.json` and `.yaml`/`.yml`,
 * each either `{ apps: [...] }` or a bare list of apps. A JavaScript file is evaluated, as PM2 does.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { hsuError } from '../errors.js';

export type Pm2App = Readonly<Record<string, unknown>>;

export async function readEcosystem(file: string): Promise<{ apps: Pm2App[]; deploy: boolean }> {
  const absolute = path.resolve(file);
  let data: unknown;
  try {
    const extension = path.extname(absolute).toLowerCase();
    if (extension === '.json') data = JSON.parse(readFileSync(absolute, 'utf8'));
    else if (extension === '.yaml' || extension === '.yml') data = parseYaml(readFileSync(absolute, 'utf8'));
    else if (['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts'].includes(extension)) {
      const namespace = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
      data = namespace.default ?? namespace;
    } else throw new Error(`not an ecosystem file (expected .js, .cjs, .mjs, .json, .yaml or .yml)`);
  } catch (error) {
    throw hsuError('MIGRATE_FILE_UNREADABLE', `cannot read the PM2 ecosystem file ${absolute}: ${(error as Error).message}`, { file: absolute }, error);
  }
  const apps = Array.isArray(data) ? data : (data as { apps?: unknown } | null)?.apps;
  if (!Array.isArray(apps) || apps.length === 0) {
    throw hsuError('MIGRATE_ECOSYSTEM_INVALID', `${absolute} has no apps: expected { apps: [...] } or a list of apps`, { file: absolute });
  }
  apps.forEach((app: unknown, index) => {
    if (typeof app !== 'object' || app === null || Array.isArray(app)) throw hsuError('MIGRATE_ECOSYSTEM_INVALID', `${absolute}: apps[${index}] is not a mapping`, { file: absolute, index });
    if (typeof (app as Pm2App).script !== 'string' || (app as Pm2App).script === '') throw hsuError('MIGRATE_ECOSYSTEM_INVALID', `${absolute}: apps[${index}] has no script`, { file: absolute, index });
  });
  return { apps: apps as Pm2App[], deploy: typeof (data as { deploy?: unknown } | null)?.deploy === 'object' };
}
