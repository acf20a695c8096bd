/**
 * `hsu messages dead <log> <consumer>` and `hsu messages redrive <log> <consumer> [id...]`: the
 * dead letters of a command worker's SQLite message log, read and re-driven straight from the
 * file. No master is needed, and a running one is not disturbed: SQLite's WAL lets this process
 * read while the worker writes, and a re-drive only marks letters, which the running worker picks
 * up (a stopped one at its next start).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { hsuError } from '../errors.js';
import type { DeadLetter } from '../messaging/message-log.js';
import type { CliIo } from './main.js';

export const MESSAGES_USAGE = `Usage: hsu messages <command> <log.sqlite> <consumer> [options]

Commands:
  dead <log> <consumer>            the consumer's dead letters, oldest first (-n N, --state dead|redrive|redriven)
  redrive <log> <consumer> [id...] mark dead letters (all, or the given message ids) for another delivery

Options:
  -n, --limit <N>                  dead: at most N letters (default 100)
  --json                           machine-readable output
`;

export async function messagesCommand(argv: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: { json: { type: 'boolean', default: false }, limit: { type: 'string', short: 'n' }, state: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  const [command, file, consumer, ...ids] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.out : io.err)(MESSAGES_USAGE);
    return values.help ? 0 : 1;
  }
  if ((command !== 'dead' && command !== 'redrive') || file === undefined || consumer === undefined) {
    io.err(`hsu: messages ${command} needs a log file and a consumer: hsu messages ${command === 'redrive' ? 'redrive' : 'dead'} <log.sqlite> <consumer>\n\n${MESSAGES_USAGE}`);
    return 1;
  }
  const logFile = path.resolve(file);
  // Opening creates a database: a mistyped path must not leave an empty log behind.
  if (!existsSync(logFile)) throw hsuError('MESSAGE_LOG_IO', `no message log at ${logFile}`, { file: logFile });
  const { SqliteMessageLog } = await import('../messaging/sqlite/sqlite-message-log.js');
  const { listDeadLetters, redrive } = await import('../messaging/dead-letters.js');
  const log = SqliteMessageLog.open(logFile);
  try {
    if (command === 'dead') {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw hsuError('DEAD_LETTER_QUERY_INVALID', `-n must be a positive integer, got ${JSON.stringify(values.limit)}`, { limit: values.limit });
      const state = values.state as DeadLetter['state'] | undefined;
      if (state !== undefined && !['dead', 'redrive', 'redriven'].includes(state)) throw hsuError('DEAD_LETTER_QUERY_INVALID', `--state is dead, redrive or redriven, got ${JSON.stringify(state)}`, { state });
      const letters = await listDeadLetters(log, consumer, { limit, ...(state === undefined ? {} : { state }) });
      io.out(values.json ? `${JSON.stringify({ ok: true, consumer, dead_letters: letters })}\n` : formatLetters(consumer, letters));
      return 0;
    }
    const messageIds = ids.map((id) => {
      const n = Number(id);
      if (!Number.isSafeInteger(n) || n < 1) throw hsuError('DEAD_LETTER_QUERY_INVALID', `message ids are positive integers, got ${JSON.stringify(id)}`, { id });
      return n;
    });
    const marked = await redrive(log, consumer, messageIds.length === 0 ? undefined : messageIds);
    io.out(values.json ? `${JSON.stringify({ ok: true, consumer, redrive_requested: marked })}\n` : `${marked} dead letter${marked === 1 ? '' : 's'} of '${consumer}' marked for another delivery\n`);
    return 0;
  } finally {
    await log.close();
  }
}

function formatLetters(consumer: string, letters: readonly DeadLetter[]): string {
  if (letters.length === 0) return `no dead letters for '${consumer}'\n`;
  const rows = letters.map((l) => [String(l.message_id), l.name, l.state, String(l.attempts), new Date(l.dead_at).toISOString(), `${l.error_code}: ${l.error_message}`.slice(0, 120)]);
  const header = ['ID', 'COMMAND', 'STATE', 'ATTEMPTS', 'DEAD AT', 'ERROR'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
