/**
 * The `hsu` command, as a function of argv so it can be tested without spawning. Each command's
 * code is imported only when that command runs: `hsu --version` loads no config stack, and the
 * client commands (`hsu ls`...) load node:http and a few small files, no zod, yaml or pino.
 */
import { isHsuError } from '../errors.js';
import { USAGE, parseCliArgs, type CliArgs } from './args.js';
import type { ClientArgs } from './client/session.js';
import type { Style } from './client/render.js';

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Output style for client commands; default: from process.stdout (TTY, NO_COLOR). */
  readonly style?: Style;
}

const defaultIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

/** Codes that mean "the configuration is the problem": only for these is `hsu validate` a useful hint. */
const CONFIG_CODES = new Set(['HSU_ERR_CONFIG_INVALID', 'HSU_ERR_CONFIG_NOT_FOUND']);
/** Commands that talk to a running master. */
const CLIENT_COMMANDS = new Set(['ls', 'list', 'status', 'start', 'stop', 'restart', 'scale', 'logs', 'events', 'reload', 'shutdown', 'cluster', 'monit', 'dashboard']);

/** Commands with options of their own: the rest of argv is theirs to parse. */
const SUBCOMMANDS: Readonly<Record<string, (argv: readonly string[], io: CliIo) => Promise<number>>> = {
  package: async (argv, io) => (await import('./package.js')).packageCli(argv, io),
  messages: async (argv, io) => (await import('./messages.js')).messagesCommand(argv, io),
};

export async function main(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  const sub = argv[0] === undefined ? undefined : SUBCOMMANDS[argv[0]];
  if (sub !== undefined) return runSubcommand(sub, argv.slice(1), io);
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    io.err(`hsu: ${(error as Error).message}${configOptionHint((error as Error).message)}\n\n${USAGE}`);
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
  // The overlay is chosen through the environment so that every later load (a reload, the daemon's child) sees it too.
  if (args.env !== undefined) process.env.HSU_ENV = args.env;
  try {
    if (CLIENT_COMMANDS.has(args.command)) return await client(args, io);
    switch (args.command) {
      case 'run': {
        const target = args.positionals[0] ?? defaultConfig();
        if (target === undefined) return usageError(io, `run needs a config file: hsu run hsu.yaml (there is no ${DEFAULT_CONFIG} in ${process.cwd()})`);
        // Watch mode is for a terminal you edit beside; a daemon would restart unseen.
        if (args.daemon && args.watch) return usageError(io, 'run --watch is a foreground development mode; drop -d');
        if (args.daemon) {
          const { daemonize } = await import('../daemon/daemonize.js');
          return await daemonize(target, { json: args.json, ...(args.logLevel === undefined ? {} : { logLevel: args.logLevel }) }, io);
        }
        const { runMaster } = await import('./run.js');
        return await runMaster(target, { json: args.json, watch: args.watch, ...(args.logLevel === undefined ? {} : { logLevel: args.logLevel as never }) });
      }
      case 'validate': {
        const files = args.positionals.length > 0 ? args.positionals : [defaultConfig()].filter((file) => file !== undefined);
        if (files.length === 0) return usageError(io, `validate needs a config file: hsu validate hsu.yaml (there is no ${DEFAULT_CONFIG} in ${process.cwd()})`);
        const { validateCommand } = await import('./validate.js');
        return await validateCommand(files, { json: args.json, natives: args.natives }, io);
      }
      case 'startup': {
        const { startupCommand } = await import('../daemon/startup.js');
        const options = { install: args.install, json: args.json, ...(args.name === undefined ? {} : { name: args.name }), ...(args.user === undefined ? {} : { user: args.user }) };
        return await startupCommand(args.positionals[0] ?? DEFAULT_CONFIG, options, io);
      }
      case 'new': {
        const { newCommand } = await import('./new.js');
        return await newCommand(args, io);
      }
      case 'import': {
        const { importCommand } = await import('./import.js');
        return await importCommand(args, io);
      }
      default:
        return usageError(io, `unknown command '${args.command}'`);
    }
  } catch (error) {
    if (isHsuError(error)) {
      if (args.json && CLIENT_COMMANDS.has(args.command)) {
        io.out(`${JSON.stringify({ ok: false, error: { code: error.code, message: error.message, details: error.context } })}\n`);
        return 1;
      }
      // No master, or the master's own verdict: one line says it all.
      if (CLIENT_COMMANDS.has(args.command)) {
        io.err(`hsu: ${error.message} (${error.code})\n`);
        return 1;
      }
      const hint = CONFIG_CODES.has(error.code) ? '; try: hsu validate <config> for every problem at once' : '';
      io.err(`hsu: ${error.message}\n  (${error.code}${hint})\n`);
      return 1;
    }
    io.err(`hsu: unexpected error\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** The file `run`, `validate` and `startup` use when given none, as the client commands find their master through it. */
const DEFAULT_CONFIG = 'hsu.yaml';

function defaultConfig(): string | undefined {
  // getBuiltinModule: the client commands' path stays free of the node:fs ESM facade.
  return process.getBuiltinModule('node:fs').existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined;
}

async function client(args: CliArgs, io: CliIo): Promise<number> {
  const command = args.command === 'list' ? 'ls' : (args.command ?? '');
  const needs: Readonly<Record<string, string>> = { status: 'status needs a worker id: hsu status <id>', logs: 'logs needs a worker id: hsu logs <id>' };
  if ((command === 'start' || command === 'stop' || command === 'restart') && args.positionals.length === 0) return usageError(io, `${command} needs worker ids or all: hsu ${command} <id>... | all`);
  if (needs[command] !== undefined && args.positionals.length === 0) return usageError(io, needs[command]);
  if (command === 'scale' && (args.positionals.length !== 2 || !/^[1-9]\d*$/.test(args.positionals[1] ?? ''))) return usageError(io, 'scale needs a worker id and a replica count: hsu scale <id> <n>');
  const clientArgs: ClientArgs = { positionals: args.positionals, json: args.json, stateDir: args.stateDir, force: args.force, lines: args.lines, follow: args.follow };
  switch (command) {
    case 'ls':
      return (await import('./client/ls.js')).lsCommand(clientArgs, io);
    case 'status':
      return (await import('./client/status.js')).statusCommand(clientArgs, io);
    case 'start':
    case 'stop':
    case 'restart':
      return (await import('./client/control.js')).controlCommand(command, clientArgs, io);
    case 'scale':
      return (await import('./client/scale.js')).scaleCommand(clientArgs, io);
    case 'logs':
      return (await import('./client/logs.js')).logsCommand(clientArgs, io);
    case 'events':
      return (await import('./client/events.js')).eventsCommand(clientArgs, io);
    case 'reload':
      return (await import('./client/reload.js')).reloadCommand(clientArgs, io);
    case 'cluster':
      return (await import('./client/cluster.js')).clusterCommand(clientArgs, io);
    case 'monit':
      return (await import('./monit.js')).monitCommand(clientArgs, io);
    case 'dashboard':
      return (await import('./dashboard.js')).dashboardCommand({ ...clientArgs, port: args.port }, io);
    default:
      return (await import('./client/shutdown.js')).shutdownCommand(clientArgs, io);
  }
}

async function runSubcommand(run: (argv: readonly string[], io: CliIo) => Promise<number>, argv: readonly string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    if (isHsuError(error)) io.err(`hsu: ${error.message}\n  (${error.code})\n`);
    else if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true) io.err(`hsu: ${(error as Error).message}\n`);
    else io.err(`hsu: unexpected error\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

function usageError(io: CliIo, message: string): number {
  io.err(`hsu: ${message}\n\n${USAGE}`);
  return 1;
}

/** `-c file` / `--config file`, the habit of nginx, supervisord and others: say where hsu takes the file. */
function configOptionHint(message: string): string {
  return /Unknown option '(-c|--config|--file)'/.test(message) ? '\nhsu: the config file is an argument, not an option: hsu run hsu.yaml, hsu validate hsu.yaml' : '';
}
