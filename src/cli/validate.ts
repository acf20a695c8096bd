/**
 * `hsu validate`: every problem at once, with file, line and key path, for each file given; then
 * what `hsu run` could not start although the schema accepts it (a missing executable or module
 * file, an export the plugin does not have, a native module nobody registers), and a note for
 * what cannot be checked without running anything. Exit 1 when any file has an error.
 */
import { formatIssues, formatPath, type ConfigIssue, type HsuConfig } from '../config/index.js';
import { validateConfigForMaster } from '../master/config-loader.js';
import { isHsuError } from '../errors.js';
import { registerBuiltinRuntimes } from '../runtimes/builtin.js';
import { RuntimeRegistry, type PreflightIssue } from '../runtimes/registry.js';
import type { CliIo } from './main.js';

export interface ValidateOptions {
  readonly json: boolean;
  /** Native factories the runner registers (`--native name`); `hsu run` registers none. */
  readonly natives: readonly string[];
}

interface FileReport {
  readonly ok: boolean;
  readonly file: string;
  readonly workers?: { id: string; type: string; runtime: string }[];
  /** The file could not be read at all. */
  readonly error?: { code: string; message: string };
  readonly issues: ConfigIssue[];
  /** What could not be checked without running anything. */
  readonly notes: ConfigIssue[];
}

export async function validateCommand(files: readonly string[], options: ValidateOptions, io: CliIo): Promise<number> {
  let failed = false;
  for (const file of files) {
    const report = await validateOne(file, options);
    failed ||= !report.ok;
    if (options.json) io.out(`${JSON.stringify(report)}\n`);
    else if (report.error !== undefined) io.err(`hsu: ${report.error.message}\n  (${report.error.code})\n`);
    else io.out(renderText(report));
  }
  return failed ? 1 : 0;
}

async function validateOne(file: string, options: ValidateOptions): Promise<FileReport> {
  let result;
  try {
    // Packages are looked up, not installed: validating changes nothing.
    result = await validateConfigForMaster(file, { install: false });
  } catch (error) {
    if (!isHsuError(error)) throw error;
    return { ok: false, file, error: { code: error.code, message: error.message }, issues: [], notes: [] };
  }
  if (!result.ok) return { ok: false, file, issues: result.issues, notes: [] };
  const { issues, notes, runtimes } = await preflight(result.config, new Set(options.natives), (path) => result.locate(path), file);
  const workers = result.config.workers.map((w, index) => ({ id: w.id, type: w.type, runtime: runtimes[index] ?? '?' }));
  return { ok: issues.length === 0, file, workers, issues, notes };
}

async function preflight(
  config: HsuConfig,
  natives: ReadonlySet<string>,
  locate: (path: (string | number)[]) => { line: number; column: number } | undefined,
  file: string,
): Promise<{ issues: ConfigIssue[]; notes: ConfigIssue[]; runtimes: string[] }> {
  const registry = registerBuiltinRuntimes(new RuntimeRegistry());
  const issues: ConfigIssue[] = [];
  const notes: ConfigIssue[] = [];
  const runtimes: string[] = [];
  for (const [index, worker] of config.workers.entries()) {
    const definition = registry.resolve(worker);
    runtimes.push(definition.kind);
    if (!worker.enabled) continue; // `hsu run` does not start it
    const found: PreflightIssue[] = (await definition.preflight?.(worker, { natives })) ?? [];
    for (const problem of found) {
      const path = ['workers', index, ...problem.path.split('.')];
      const position = locate(path) ?? locate(['workers', index]);
      const message = problem.severity === 'warning' ? `warning: ${problem.message}` : problem.message;
      const issue: ConfigIssue = { file, path: formatPath(path), message, ...(position === undefined ? {} : { line: position.line, column: position.column }) };
      // Only what `hsu run` cannot start fails the file; warnings and notes are said, not counted.
      (problem.severity === 'error' ? issues : notes).push(issue);
    }
  }
  return { issues, notes, runtimes };
}

function renderText(report: FileReport): string {
  const lines: string[] = [];
  if (report.ok) {
    const count = report.workers?.length ?? 0;
    lines.push(`${report.file}: ok (${count} worker${count === 1 ? '' : 's'})`);
  } else {
    lines.push(formatIssues(report.issues), `${report.issues.length} problem${report.issues.length === 1 ? '' : 's'} in ${report.file}`);
  }
  for (const note of report.notes) lines.push(`note: ${formatIssues([note])}`);
  return `${lines.join('\n')}\n`;
}
