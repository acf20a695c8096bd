/** Argument parsing for the `hsu` command: node's own parseArgs, no framework needed for two verbs. */
import { parseArgs } from 'node:util';
import { LOG_LEVELS } from '../config/schema.js';

export interface CliArgs {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly json: boolean;
  readonly help: boolean;
  readonly logLevel: string | undefined;
}

export function parseCliArgs(argv: readonly string[]): CliArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      'log-level': { type: 'string' },
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
    logLevel: values['log-level'],
  };
}

export const USAGE = `Usage: hsu <command> [options]

Commands:
  run <config.yaml>        run the master in the foreground (Ctrl-C stops it gracefully; twice forces)
  validate <config.yaml>   check a configuration file and print every problem at once

Options:
  --json                   machine-readable output (JSON lines for run, a JSON document for validate)
  --log-level <level>      trace | debug | info | warn | error | fatal | silent (overrides the config)
  -h, --help               show this help
`;
