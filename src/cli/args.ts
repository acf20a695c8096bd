/** Argument parsing for the `hsu` command: node's own parseArgs, no framework needed. */
import { parseArgs } from 'node:util';
import { LOG_LEVELS } from '../config/log-levels.js';

export interface CliArgs {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly json: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly logLevel: string | undefined;
  /** Native factory names the runner registers (for `hsu validate`). */
  readonly natives: string[];
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', short: 'v', default: false },
      'log-level': { type: 'string' },
      native: { type: 'string', multiple: true, default: [] },
    },
  });
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as (typeof LOG_LEVELS)[number])) {
    throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
    logLevel,
    natives: values.native ?? [],
  };
}

export const USAGE = `Usage: hsu <command> [options]

Commands:
  run <config.yaml>          run the master in the foreground (Ctrl-C stops it gracefully; twice forces)
  validate <config.yaml>...  check configuration files: every problem at once, and what \`hsu run\` could not start

Options:
  --json                     machine-readable output (JSON lines for run, one JSON document per file for validate)
  --log-level <level>        trace | debug | info | warn | error | fatal | silent (overrides the config)
  --native <name>            validate: a native module factory the runner registers (repeatable)
  -v, --version              print the version
  -h, --help                 show this help
`;
