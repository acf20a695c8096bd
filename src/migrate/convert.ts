/**
 * An ecosystem file as an hsu.yaml: the workers, a comment above each with what did not carry
 * over as is, and a check of the result by the same validation `hsu validate` runs.
 */
import path from 'node:path';
import { Document } from 'yaml';
import { validateConfigText, type ConfigIssue } from '../config/index.js';
import { appToWorker } from './app-to-worker.js';
import { readEcosystem } from './ecosystem-file.js';

export interface ImportResult {
  /** The hsu.yaml text. */
  readonly yaml: string;
  readonly workers: readonly Record<string, unknown>[];
  /** Per worker id, what the comments say. */
  readonly notes: Readonly<Record<string, readonly string[]>>;
  /** The environments the file's env_<name> blocks define (selected with hsu run --env <name>). */
  readonly environments: readonly string[];
  /** Problems `hsu validate` finds in the result (none expected; reported rather than hidden). */
  readonly issues: readonly ConfigIssue[];
}

export async function importPm2(file: string): Promise<ImportResult> {
  const { apps, deploy } = await readEcosystem(file);
  const used = new Set<string>();
  const converted = apps.map((app) => appToWorker(app, used));
  const workers = converted.map((c) => c.worker);
  const environments = [...new Set(workers.flatMap((w) => Object.keys((w.env as Record<string, unknown> | undefined) ?? {})))].sort();
  const doc = new Document({ workers });
  doc.commentBefore = [
    ` Converted from ${path.basename(file)} by \`hsu import pm2\`.`,
    ...(environments.length === 0 ? [] : [` Environments (PM2's env_<name>): ${environments.join(', ')}; select one with \`hsu run --env <name>\`.`]),
    ...(deploy ? [' The deploy section has no hsu counterpart and was left out.'] : []),
  ].join('\n');
  converted.forEach((c, index) => {
    const node = doc.getIn(['workers', index], true) as { commentBefore?: string } | undefined;
    if (node !== undefined && c.notes.length > 0) node.commentBefore = c.notes.map((note) => ` ${note}`).join('\n');
  });
  const yaml = doc.toString({ lineWidth: 0 });
  const checked = validateConfigText(yaml, path.join(path.dirname(path.resolve(file)), 'hsu.yaml'), { env: {} });
  return {
    yaml,
    workers,
    notes: Object.fromEntries(converted.map((c) => [c.worker.id as string, c.notes])),
    environments,
    issues: checked.ok ? [] : checked.issues,
  };
}
