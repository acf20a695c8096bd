/**
 * The `hsu` command, as a function of argv so it can be tested without spawning. Each command's
 * code is imported only when that command runs: `hsu --version` loads no config stack.
 */
import { isHsuError } from '../errors.js';
import { USAGE, parseCliArgs, type CliArgs } from './args.js';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

const defaultIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Codes that mean "the configuration is the problem": only for these is `hsu validate` a useful hint. */
const CONFIG_CODES = new Set(['HSU_ERR_CONFIG_INVALID', 'HSU_ERR_CONFIG_NOT_FOUND']);

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    io.err(`hsu: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (args.version) {
    const { hsuVersion } = await import('./version.js');
    io.out(`hsu ${hsuVersion()} (node ${process.version})\n`);
    return 0;
  }
  if (args.help || args.command === undefined) {
    (args.help ? io.out : io.err)(USAGE);
    return args.help ? 0 : 1;
  }
  try {
    switch (args.command) {
      case 'run': {
        const target = args.positionals[0];
        if (target === undefined) return usageError(io, 'run needs a config file: hsu run hsu.yaml');
        const { runMaster } = await import('./run.js');
        return await runMaster(target, { json: args.json, ...(args.logLevel === undefined ? {} : { logLevel: args.logLevel as never }) });
      }
      case 'validate': {
        if (args.positionals.length === 0) return usageError(io, 'validate needs a config file: hsu validate hsu.yaml');
        const { validateCommand } = await import('./validate.js');
        return await validateCommand(args.positionals, { json: args.json, natives: args.natives }, io);
      }
      default:
        return usageError(io, `unknown command '${args.command}'`);
    }
  } catch (error) {
    if (isHsuError(error)) {
      const hint = CONFIG_CODES.has(error.code) ? '; try: hsu validate <config> for every problem at once' : '';
      io.err(`hsu: ${error.message}\n  (${error.code}${hint})\n`);
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
