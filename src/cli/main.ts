/** The `hsu` command, as a function of argv so it can be tested without spawning. */
import { isHsuError } from '../errors.js';
import { USAGE, parseCliArgs } from './args.js';
import { runMaster } from './run.js';
import { validateCommand } from './validate.js';
import type { LevelWithSilent } from 'pino';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    io.err(`hsu: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (args.help || args.command === undefined) {
    (args.help ? io.out : io.err)(USAGE);
    return args.help ? 0 : 1;
  }
  const target = args.positionals[0];
  try {
    switch (args.command) {
      case 'run':
        if (target === undefined) return usageError(io, 'run needs a config file: hsu run hsu.yaml');
        return await runMaster(target, { json: args.json, ...(args.logLevel ? { logLevel: args.logLevel as LevelWithSilent } : {}) });
      case 'validate':
        if (target === undefined) return usageError(io, 'validate needs a config file: hsu validate hsu.yaml');
        return validateCommand(target, args.json, io);
      default:
        return usageError(io, `unknown command '${args.command}'`);
    }
  } catch (error) {
    if (isHsuError(error)) {
      io.err(`hsu: ${error.message}\n  (${error.code}; try: hsu validate <config> for every problem at once)\n`);
      return 1;
    }
    io.err(`hsu: unexpected error\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

function usageError(io: CliIo, message: string): number {
  io.err(`hsu: ${message}\n\n${USAGE}`);
  return 1;
}
