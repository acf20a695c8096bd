/**
 * `hsu reload`: the master re-reads its config file and applies the difference. An invalid file
 * changes nothing and every problem is printed with its line; exit 1 then, and when any step of
 * the reload failed.
 */
import type { ReloadReportBody } from '../../api/schemas.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { paint } from './render.js';
import { openSession, type ClientArgs } from './session.js';

interface Issue {
  file?: string;
  line?: number;
  column?: number;
  path: string;
  message: string;
}

export async function reloadCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  let report: ReloadReportBody;
  try {
    report = await call<ReloadReportBody>(session.endpoint, 'POST', '/reload', {});
  } catch (error) {
    const e = error as { code?: string; message: string; context?: { issues?: Issue[] } };
    if (e.code !== 'HSU_ERR_CONFIG_INVALID') throw error;
    if (session.json) session.emit({ ok: false, error: { code: e.code, message: e.message, issues: e.context?.issues ?? [] } });
    else io.err(`hsu: ${e.message}\n`);
    return 1;
  }
  if (session.json) {
    session.emit(report);
    return report.ok ? 0 : 1;
  }
  const s = session.style;
  const parts = [
    report.added.length > 0 ? `added ${report.added.join(', ')}` : undefined,
    report.removed.length > 0 ? `removed ${report.removed.join(', ')}` : undefined,
    report.changed.length > 0 ? `restarted ${report.changed.join(', ')} with their new config` : undefined,
    report.reconfigured.length > 0 ? `reconfigured ${report.reconfigured.join(', ')} in place` : undefined,
    `${report.unchanged.length} unchanged`,
  ].filter((p): p is string => p !== undefined);
  io.out(`${report.ok ? 'reloaded' : paint(s, 'red', 'reloaded with errors')} ${report.file}: ${parts.join('; ')}\n`);
  for (const warning of report.warnings) io.err(`hsu: warning: ${warning}\n`);
  for (const e of report.errors) io.err(`hsu: ${e.worker_id ?? 'master'}: ${e.step} failed: ${e.message} (${e.code})\n`);
  return report.ok ? 0 : 1;
}
