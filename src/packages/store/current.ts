/**
 * Upgrade bookkeeping: which version of a package is current, and which was current before, so a
 * failed upgrade can go back. Kept per scope (a worker id, or `default`) in `<name>/.current.json`,
 * because two workers may run different versions of one package. The master calls `setCurrent`
 * when a worker starts on a version, `rollback` when the new version fails.
 */
import { readFile } from 'node:fs/promises';
import semver from 'semver';
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import type { StoreLayout } from './layout.js';

export const DEFAULT_SCOPE = 'default';

const scopeSchema = z.strictObject({
  current: z.string(),
  previous: z.string().nullable(),
  changed_at: z.string(),
});
const currentFileSchema = z.strictObject({ format: z.literal(1), scopes: z.record(z.string(), scopeSchema) });

export type CurrentRecord = z.output<typeof scopeSchema>;
type CurrentFile = z.output<typeof currentFileSchema>;

export interface SetCurrentOptions {
  readonly scope?: string | undefined;
  /** Moving to a lower version than the current one is refused without this (a rollback is not). */
  readonly allowDowngrade?: boolean | undefined;
}

export class CurrentBook {
  constructor(private readonly layout: StoreLayout) {}

  async read(name: string): Promise<Record<string, CurrentRecord>> {
    return (await this.load(name)).scopes;
  }

  async get(name: string, scope: string = DEFAULT_SCOPE): Promise<CurrentRecord | undefined> {
    return (await this.load(name)).scopes[scope];
  }

  /** Makes `version` current for `scope`; the version it replaces becomes `previous`. */
  async set(name: string, version: string, options: SetCurrentOptions = {}): Promise<CurrentRecord> {
    const scope = options.scope ?? DEFAULT_SCOPE;
    const file = await this.load(name);
    const before = file.scopes[scope];
    if (before?.current === version) return before;
    if (before !== undefined && semver.lt(version, before.current) && options.allowDowngrade !== true) {
      throw hsuError('PACKAGE_DOWNGRADE', `${name}: ${version} is lower than the current ${before.current} (scope ${scope}); allow_downgrade permits it`, { package: name, version, current: before.current, scope });
    }
    return this.write(name, file, scope, { current: version, previous: before?.current ?? null, changed_at: new Date().toISOString() });
  }

  /** Swaps current and previous for `scope`; throws PACKAGE_NOT_FOUND when there is no previous. */
  async rollback(name: string, scope: string = DEFAULT_SCOPE): Promise<CurrentRecord> {
    const file = await this.load(name);
    const before = file.scopes[scope];
    if (before?.previous == null) throw hsuError('PACKAGE_NOT_FOUND', `${name} has no previous version to roll back to (scope ${scope})`, { package: name, scope });
    return this.write(name, file, scope, { current: before.previous, previous: before.current, changed_at: new Date().toISOString() });
  }

  /** Drops a scope (its worker is gone). */
  async forget(name: string, scope: string): Promise<void> {
    const file = await this.load(name);
    if (file.scopes[scope] === undefined) return;
    const { [scope]: _dropped, ...rest } = file.scopes;
    await this.layout.writeJsonAtomic(this.layout.currentFile(name), { format: 1, scopes: rest });
  }

  /** Scopes in which `version` is current or previous (a version they may need again). */
  async holders(name: string, version: string): Promise<{ scope: string; as: 'current' | 'previous' }[]> {
    const scopes = (await this.load(name)).scopes;
    return Object.entries(scopes).flatMap(([scope, record]): { scope: string; as: 'current' | 'previous' }[] => {
      if (record.current === version) return [{ scope, as: 'current' }];
      if (record.previous === version) return [{ scope, as: 'previous' }];
      return [];
    });
  }

  private async write(name: string, file: CurrentFile, scope: string, record: CurrentRecord): Promise<CurrentRecord> {
    await this.layout.writeJsonAtomic(this.layout.currentFile(name), { format: 1, scopes: { ...file.scopes, [scope]: record } });
    return record;
  }

  private async load(name: string): Promise<CurrentFile> {
    const path = this.layout.currentFile(name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { format: 1, scopes: {} };
      throw hsuError('PACKAGE_STORE_FAILED', `cannot read ${path}: ${(error as Error).message}`, { file: path }, error);
    }
    const parsed = currentFileSchema.safeParse(safeJson(text));
    if (!parsed.success) throw hsuError('PACKAGE_STORE_FAILED', `${path} is damaged; remove it to start the bookkeeping afresh`, { file: path });
    return parsed.data;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
