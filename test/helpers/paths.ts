// Tests run from dist/test/...; fixtures that are plain JS stay in the source tree.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Absolute path of a plain-JS fixture under test/fixtures (not compiled). */
export function fixture(name: string): string {
  return path.join(repoRoot, 'test', 'fixtures', name);
}

/** Absolute path of a compiled TypeScript fixture module under dist/test/fixtures/modules. */
export function moduleFixture(name: string): string {
  return path.join(repoRoot, 'dist', 'test', 'fixtures', 'modules', name);
}
