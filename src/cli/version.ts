// The package's own version, read from its package.json (two levels above dist/src/cli).
import { readFileSync } from 'node:fs';

export function hsuVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}
