/** `hsu validate`: every problem at once, with file, line and key path; exit 1 when invalid. */
import { formatIssues, validateConfigFile } from '../config/index.js';
import type { CliIo } from './main.js';

export function validateCommand(file: string, json: boolean, io: CliIo): number {
  const result = validateConfigFile(file);
  if (result.ok) {
    const workers = result.config.workers.map((w) => ({ id: w.id, type: w.type }));
    io.out(json ? `${JSON.stringify({ ok: true, file, workers })}\n` : `${file}: ok (${workers.length} worker${workers.length === 1 ? '' : 's'})\n`);
    return 0;
  }
  io.out(json ? `${JSON.stringify({ ok: false, file, issues: result.issues })}\n` : `${formatIssues(result.issues)}\n${result.issues.length} problem${result.issues.length === 1 ? '' : 's'} in ${file}\n`);
  return 1;
}
