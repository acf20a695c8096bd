/**
 * `hsu import pm2 <ecosystem file> [-o hsu.yaml] [--force] [--json]`: converts a PM2 ecosystem
 * file. Without -o the YAML goes to stdout; notes on what changed meaning go to stderr either way.
 */
import { existsSync, writeFileSync } from 'node:fs';
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';
import { hsuError } from '../errors.js';

export async function importCommand(args: CliArgs, io: CliIo): Promise<number> {
  const [from, file] = args.positionals;
  if (from !== 'pm2' || file === undefined) {
    io.err('hsu: import needs a source and a file: hsu import pm2 ecosystem.config.js [-o hsu.yaml]\n');
    return 1;
  }
  const { importPm2 } = await import('../migrate/index.js');
  const result = await importPm2(file);
  if (args.out !== undefined) {
    if (existsSync(args.out) && !args.force) throw hsuError('MIGRATE_TARGET_EXISTS', `${args.out} exists; use --force to overwrite it`, { file: args.out });
    writeFileSync(args.out, result.yaml);
  }
  if (args.json) {
    io.out(`${JSON.stringify({ ok: result.issues.length === 0, file: args.out ?? null, workers: result.workers, notes: result.notes, environments: result.environments, issues: result.issues })}\n`);
  } else {
    if (args.out === undefined) io.out(result.yaml);
    const notes = Object.entries(result.notes).flatMap(([id, list]) => list.map((note) => `  ${id}: ${note}\n`));
    io.err(`hsu import: ${result.workers.length} worker(s)${args.out === undefined ? '' : ` written to ${args.out}`}${result.environments.length === 0 ? '' : `; environments: ${result.environments.join(', ')} (hsu run --env <name>)`}\n${notes.join('')}`);
    for (const issue of result.issues) io.err(`  problem: ${issue.path} ${issue.message}\n`);
  }
  return result.issues.length === 0 ? 0 : 1;
}
