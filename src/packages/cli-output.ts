// What `hsu package` prints: one summary shape for every JSON output, plain lines for people.
import type { InstallResult } from './store/install.js';
import type { InstalledPackage } from './store/store.js';
import type { VerifyReport } from './store/verify.js';

export interface PackageSummary {
  readonly name: string;
  readonly version: string;
  readonly description: string | undefined;
  readonly supported_types: readonly string[];
  readonly root: string;
  readonly sha256: string;
  readonly signed_by: string | null;
  readonly installed_at: string;
  readonly dependencies: readonly { name: string; version: string }[];
}

export function summarize(pkg: InstalledPackage): PackageSummary {
  return {
    name: pkg.name,
    version: pkg.version,
    description: pkg.manifest.description,
    supported_types: pkg.manifest.supported_types,
    root: pkg.root,
    sha256: pkg.receipt.sha256,
    signed_by: pkg.receipt.key_id,
    installed_at: pkg.receipt.installed_at,
    dependencies: pkg.manifest.dependencies,
  };
}

export function formatInstall(result: InstallResult): string {
  const id = `${result.package.name}@${result.package.version}`;
  if (result.already_installed && result.installed.length === 0) return `${id} is already installed in ${result.package.root}\n`;
  const lines = result.installed.map((pkg) => `installed ${pkg.name}@${pkg.version} (${pkg.manifest.supported_types.join(', ')})${pkg.receipt.key_id === null ? '' : `, signed by ${pkg.receipt.key_id}`} in ${pkg.root}`);
  if (result.already_installed) lines.push(`${id} was already installed`);
  return `${lines.join('\n')}\n`;
}

export function formatList(rows: readonly (PackageSummary & { current_in: readonly string[] })[]): string {
  if (rows.length === 0) return 'no packages installed\n';
  const table = [
    ['NAME', 'VERSION', 'TYPES', 'SIGNED BY', 'CURRENT FOR', 'INSTALLED'],
    ...rows.map((row) => [row.name, row.version, row.supported_types.join(','), row.signed_by ?? '-', row.current_in.join(',') || '-', row.installed_at.slice(0, 19).replace('T', ' ')]),
  ];
  const widths = table[0]?.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length))) ?? [];
  return `${table.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n')}\n`;
}

export function formatVerify(reports: readonly VerifyReport[]): string {
  if (reports.length === 0) return 'no packages installed\n';
  return reports
    .map((report) => {
      const id = `${report.name}@${report.version}`;
      if (report.ok) return `ok      ${id}${report.key_id === null ? '' : ` (signed by ${report.key_id})`}\n`;
      return `FAILED  ${id}\n${report.problems.map((problem) => `        ${problem}\n`).join('')}`;
    })
    .join('');
}
