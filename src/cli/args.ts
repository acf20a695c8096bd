/** Argument parsing for the `hsu` command: node's own parseArgs, no framework needed. */
import { LOG_LEVELS } from '../config/log-levels.js';

// getBuiltinModule, not an ESM import: importing node:util as ESM enumerates (and builds) its
// exports, a few ms every `hsu` command pays before doing anything.
const { parseArgs } = process.getBuiltinModule('node:util');

export interface CliArgs {
  readonly command: string | undefined;
  readonly positionals: string[];
  readonly json: boolean;
  readonly help: boolean;
  readonly version: boolean;
  readonly logLevel: string | undefined;
  /** Native factory names the runner registers (for `hsu validate`). */
  readonly natives: string[];
  /** `run -d`: start the master as a daemon. */
  readonly daemon: boolean;
  /** The master to talk to (client commands). */
  readonly stateDir: string | undefined;
  readonly force: boolean;
  /** `logs -n N`. */
  readonly lines: number | undefined;
  /** `logs -f`. */
  readonly follow: boolean;
  /** `startup --install`. */
  readonly install: boolean;
  /** `startup --name`, `--user`. */
  readonly name: string | undefined;
  readonly user: string | undefined;
  /** `run --watch`: restart workers whose files change. */
  readonly watch: boolean;
  /** `run|validate --env <name>`: the environment overlay (sets HSU_ENV). */
  readonly env: string | undefined;
  /** `new`: what the generated project includes; `--dir` where it goes. */
  readonly metrics: boolean;
  readonly tracing: boolean;
  readonly commandWorker: boolean;
  readonly dir: string | undefined;
  /** `import pm2 -o <file>`. */
  readonly out: string | undefined;
  /** `dashboard --port`. */
  readonly port: number | undefined;
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
      daemon: { type: 'boolean', short: 'd', default: false },
      'state-dir': { type: 'string' },
      force: { type: 'boolean', default: false },
      lines: { type: 'string', short: 'n' },
      follow: { type: 'boolean', short: 'f', default: false },
      install: { type: 'boolean', default: false },
      name: { type: 'string' },
      user: { type: 'string' },
      watch: { type: 'boolean', short: 'w', default: false },
      env: { type: 'string' },
      metrics: { type: 'boolean', default: false },
      tracing: { type: 'boolean', default: false },
      'command-worker': { type: 'boolean', default: false },
      dir: { type: 'string' },
      out: { type: 'string', short: 'o' },
      port: { type: 'string' },
    },
  });
  const logLevel = values['log-level'];
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel as (typeof LOG_LEVELS)[number])) {
    throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${logLevel}'`);
  }
  const lines = values.lines === undefined ? undefined : Number(values.lines);
  if (lines !== undefined && (!Number.isInteger(lines) || lines < 0 || lines > 10_000)) {
    throw new Error(`-n/--lines must be a whole number from 0 to 10000, got '${values.lines ?? ''}'`);
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65_535)) throw new Error(`--port must be a port number from 0 to 65535, got '${values.port ?? ''}'`);
  return {
    command: positionals[0],
    positionals: positionals.slice(1),
    json: values.json === true,
    help: values.help === true,
    version: values.version === true,
    logLevel,
    natives: values.native ?? [],
    daemon: values.daemon === true,
    stateDir: values['state-dir'],
    force: values.force === true,
    lines,
    follow: values.follow === true,
    install: values.install === true,
    name: values.name,
    user: values.user,
    watch: values.watch === true,
    env: values.env,
    metrics: values.metrics === true,
    tracing: values.tracing === true,
    commandWorker: values['command-worker'] === true,
    dir: values.dir,
    out: values.out,
    port,
  };
}

export const USAGE = `Usage: hsu <command> [options]

Run a master:
  run [config.yaml]            run the master in the foreground (Ctrl-C stops it gracefully; twice forces; SIGHUP reloads)
                               (without a file: ./hsu.yaml, as for every command below)
  run -d [config.yaml]         run it as a daemon: returns once it is running, its log in <state_dir>/master.log
  validate [config.yaml]...    check configuration files: every problem at once, and what \`hsu run\` could not start
  startup [config.yaml]        print a systemd unit for this config (--install writes it, as root)
  run --watch <config.yaml>    restart a worker when its files change (module file and imports, script, working dir, watch.paths)
  run|validate --env <name>    select the environment overlay <name> (workers' env.<name>; sets HSU_ENV)

Start a project:
  new module|process|master <name>   a project that installs, builds, tests and runs with npm start
                               (--dir <path>, --metrics, --tracing, --command-worker)
  import pm2 <ecosystem file>  convert a PM2 ecosystem file (.js, .cjs, .json, .yaml) to hsu.yaml (-o <file>, --force)

Talk to a running master (found through ./hsu.yaml or ./.hsu, --state-dir or HSU_STATE_DIR):
  ls                           every worker: state, health, pid, uptime, restarts, CPU, memory
  status <id>                  one worker's diagnostics and recent transitions
  start|stop|restart <id>...   or \`all\`; --force skips the grace period of stop and restart
  scale <id> <n>               run n replicas of a worker with replicas (the highest-numbered stop first, finishing their calls)
  logs <id> [-n N] [-f]        the last N lines of its stdout/stderr files; -f follows them
  events [id]                  lifecycle events as they happen
  reload                       re-read the config file and apply the difference (same as SIGHUP)
  shutdown [--force]           stop the master gracefully and wait until it is gone
  cluster ls                   the masters of its cluster (master.cluster): heartbeat, loop lag, instances
  monit                        a live terminal view: workers, CPU, memory, the selected worker's log
  dashboard [--port N]         the web dashboard on a loopback port (prints the URL to open)

Packages and messages (their own options: hsu package --help, hsu messages --help):
  package install|ls|rm|verify|pack|keygen   the package store of this directory's config (see docs/packages.md)
  messages dead|redrive <log> <consumer>     a command worker's dead letters, straight from its SQLite log

Options:
  --json                       machine-readable output (one JSON document per line)
  --state-dir <dir>            the master to talk to
  --log-level <level>          trace | debug | info | warn | error | fatal | silent (overrides the config)
  --native <name>              validate: a native module factory the runner registers (repeatable)
  --name <name>, --user <u>    startup: the unit is hsu-<name>.service (default: the config's directory), run as <u>
  -v, --version                print the version
  -h, --help                   show this help
`;
