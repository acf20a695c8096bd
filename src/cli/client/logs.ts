/**
 * `hsu logs <id> [-n N] [-f]`: the last N lines of the worker's stdout and stderr files (stdout
 * lines to stdout, stderr lines to stderr, so a pipe can pick one), then with -f every new line as
 * it is written, following the files across rotation, until Ctrl-C or the master goes away.
 */
import type { LogTail } from '../../api/schemas.js';
import type { CliIo } from '../main.js';
import { call } from './connection.js';
import { paint } from './render.js';
import { followEvents, interruptSignal } from './sse.js';
import { openSession, workerPath, type ClientArgs, type Session } from './session.js';

const DEFAULT_LINES = 15;

export async function logsCommand(args: ClientArgs, io: CliIo): Promise<number> {
  const session = await openSession(args, io);
  const id = args.positionals[0] ?? '';
  const lines = args.lines ?? DEFAULT_LINES;
  const print = printer(session);
  if (!args.follow) {
    const tail = await call<LogTail>(session.endpoint, 'GET', workerPath(id, `/logs?lines=${lines}`));
    for (const line of tail.stdout.lines) print('stdout', line);
    for (const line of tail.stderr.lines) print('stderr', line);
    return 0;
  }
  const interrupt = interruptSignal();
  try {
    const end = await followEvents(
      session.endpoint,
      workerPath(id, `/logs/stream?lines=${lines}`),
      (event, data) => {
        const d = data as { stream?: 'stdout' | 'stderr'; line?: string; message?: string };
        if (event === 'line' && d.stream !== undefined) print(d.stream, d.line ?? '');
        else if (event === 'error') io.err(`hsu: ${d.message ?? 'log stream error'}\n`);
      },
      interrupt.signal,
    );
    if (end === 'ended' && !session.json) io.err('hsu: the master closed the log stream\n');
    return 0;
  } finally {
    interrupt.dispose();
  }
}

function printer(session: Session): (stream: 'stdout' | 'stderr', line: string) => void {
  if (session.json) return (stream, line) => session.emit({ stream, line });
  const { style, io } = session;
  if (!style.tty) return (stream, line) => (stream === 'stdout' ? io.out : io.err)(`${line}\n`);
  return (stream, line) => (stream === 'stdout' ? io.out : io.err)(`${paint(style, stream === 'stdout' ? 'green' : 'red', stream === 'stdout' ? 'out' : 'err')} | ${line}\n`);
}
