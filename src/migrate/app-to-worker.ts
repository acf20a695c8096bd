/**
 * One PM2 app as one hsu worker, key by key (the table in docs/migrating-from-pm2.md). What has
 * no hsu counterpart, or changes meaning, is returned as a note for the written file.
 */
import os from 'node:os';
import path from 'node:path';
import type { Pm2App } from './ecosystem-file.js';

export interface Converted {
  readonly worker: Record<string, unknown>;
  readonly notes: string[];
}

/** PM2's interpreter by extension (lib/API/interpreter.json), except .ts: Node runs it by erasing types. */
const INTERPRETERS: Readonly<Record<string, string>> = { '.sh': 'bash', '.py': 'python3', '.rb': 'ruby', '.php': 'php', '.pl': 'perl', '.coffee': 'coffee', '.ls': 'lsc' };
const NODE_SCRIPT = /\.(js|mjs|cjs|ts|mts|cts)$/;
/** Keys handled below; anything else is reported as not converted. */
const KNOWN = new Set([
  'name', 'script', 'args', 'interpreter', 'exec_interpreter', 'interpreter_args', 'node_args', 'cwd', 'env', 'instances', 'exec_mode', 'watch', 'ignore_watch', 'watch_delay',
  'max_memory_restart', 'cron_restart', 'autorestart', 'max_restarts', 'min_uptime', 'restart_delay', 'exp_backoff_restart_delay', 'kill_timeout', 'wait_ready', 'listen_timeout',
  'stop_exit_codes', 'out_file', 'error_file', 'log_file', 'merge_logs', 'combine_logs', 'log_date_format', 'time', 'uid', 'user', 'gid', 'increment_var', 'shutdown_with_message', 'namespace', 'version', 'force', 'vizion', 'source_map_support', 'pid_file', 'log_type', 'instance_var', 'filter_env', 'treekill',
]);

/** A shell-like split of PM2's string `args` (quotes group, backslash escapes). */
export function splitArgs(text: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      started = true;
    } else if (/\s/.test(c)) {
      if (started || current !== '') out.push(current);
      current = '';
      started = false;
    } else current += c;
  }
  if (started || current !== '') out.push(current);
  return out;
}

/** hsu interpolates `${VAR}` in config strings, PM2 does not: a literal `${` or `$$` is written `$${` / `$$$`. */
export function literal(text: string): string {
  return text.replace(/\$(?=[{$])/g, '$$$$');
}

function argsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => literal(String(v)));
  return typeof value === 'string' ? splitArgs(value).map(literal) : [];
}

/** PM2 sizes (`300M`, `1G`, `512K`, bytes) are powers of 1024. */
export function pm2Size(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kmg])?b?\s*$/i.exec(value) : null;
  if (match === null) return undefined;
  const unit = match[2]?.toUpperCase();
  return unit === undefined ? match[1] : `${match[1]}${unit}iB`;
}

/** PM2 durations: a number of ms, or a string such as "10s", "1m", "1h", "500" (ms). */
export function pm2Duration(value: unknown): string | number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  return /^\d+(\.\d+)?(ms|s|m|h)$/.test(value.trim()) ? value.trim() : undefined;
}

const strings = (env: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(typeof env === 'object' && env !== null ? env : {}).map(([k, v]) => [k, literal(typeof v === 'string' ? v : JSON.stringify(v))]));

/** A worker id from PM2's name: [A-Za-z0-9_-], at most 64. */
export function workerId(name: string, used: Set<string>): string {
  const base = name.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'app';
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
  used.add(id);
  return id;
}

function execution(app: Pm2App, notes: string[]): Record<string, unknown> {
  const script = literal(app.script as string);
  const interpreter = (app.interpreter ?? app.exec_interpreter) as string | undefined;
  const interpreterArgs = argsOf(app.interpreter_args ?? app.node_args);
  const args = argsOf(app.args);
  const extension = path.extname(script).toLowerCase();
  let executable: string;
  let argv: string[];
  if (interpreter === 'none') {
    executable = script;
    argv = args;
  } else if (interpreter !== undefined) {
    executable = interpreter;
    argv = [...interpreterArgs, script, ...args];
  } else if (NODE_SCRIPT.test(script) || extension === '') {
    // PM2 runs a script without an extension found in PATH (npm, a binary) directly, and anything else with node.
    const bare = extension === '' && !script.includes('/');
    executable = bare ? script : 'node';
    argv = bare ? args : [...interpreterArgs, script, ...args];
    if (/\.(ts|mts|cts)$/.test(script)) notes.push('a .ts script runs on Node with its types erased (PM2 would use bun); enums and parameter properties need a build');
  } else {
    executable = INTERPRETERS[extension] ?? 'node';
    argv = [...interpreterArgs, script, ...args];
  }
  const env = strings(app.env);
  return {
    executable_path: executable,
    ...(argv.length === 0 ? {} : { args: argv }),
    ...(Object.keys(env).length === 0 ? {} : { environment: env }),
    ...(typeof app.cwd === 'string' ? { working_directory: literal(app.cwd) } : {}),
  };
}

function restart(app: Pm2App, notes: string[]): Record<string, unknown> {
  const stopCodes = Array.isArray(app.stop_exit_codes) ? app.stop_exit_codes.map(Number) : undefined;
  const policy = app.autorestart === false ? 'never' : stopCodes !== undefined && stopCodes.length === 1 && stopCodes[0] === 0 ? 'on-failure' : 'always';
  if (stopCodes !== undefined && policy === 'always') notes.push(`stop_exit_codes ${JSON.stringify(stopCodes)}: hsu tells success (exit 0, restart.policy: on-failure) from failure, not single codes; kept policy: always`);
  const out: Record<string, unknown> = { policy };
  const delay = pm2Duration(app.restart_delay);
  const exp = pm2Duration(app.exp_backoff_restart_delay);
  // PM2's exponential backoff grows by 1.5 up to 15 s; a fixed restart_delay is a backoff that never grows.
  if (exp !== undefined) out.backoff = { initial: exp, max: '15s', multiplier: 1.5, jitter: 0 };
  else if (delay !== undefined) out.backoff = { initial: delay, max: delay, multiplier: 1, jitter: 0 };
  if (typeof app.max_restarts === 'number') {
    out.intensity = { max_restarts: app.max_restarts, window: '60s' };
    notes.push('max_restarts: PM2 counts restarts that come sooner than min_uptime; hsu counts restarts within a window (60s here): adjust restart.intensity.window');
  }
  const minUptime = pm2Duration(app.min_uptime);
  if (minUptime !== undefined) out.reset_after = minUptime;
  return out;
}

export function appToWorker(app: Pm2App, used: Set<string>): Converted {
  const notes: string[] = [];
  const name = typeof app.name === 'string' ? app.name : path.basename(app.script as string).replace(/\.[^.]*$/, '');
  const id = workerId(name, used);
  if (id !== name) notes.push(`name ${JSON.stringify(name)} is id ${id} (ids are 1-64 of A-Z a-z 0-9 _ -)`);
  const worker: Record<string, unknown> = { id, type: 'process', execution: execution(app, notes), restart: restart(app, notes) };
  const overlays = Object.entries(app).filter(([key]) => key.startsWith('env_'));
  if (overlays.length > 0) worker.env = Object.fromEntries(overlays.map(([key, value]) => [key.slice(4), strings(value)]));
  if (app.instances !== undefined) {
    const cpus = os.availableParallelism();
    const raw = app.instances;
    const count = raw === 'max' || raw === 0 || raw === '0' ? cpus : Number(raw) < 0 ? Math.max(1, cpus + Number(raw)) : Number(raw);
    if (Number.isInteger(count) && count > 1) worker.instances = count;
    if (typeof raw !== 'number' || raw <= 0) notes.push(`instances ${JSON.stringify(raw)} is ${count} on this machine (${cpus} CPUs); hsu takes a number`);
  }
  if (app.exec_mode === 'cluster' || app.exec_mode === 'cluster_mode') {
    notes.push("exec_mode cluster: hsu's instances are separate processes, they do not share one listening port through Node's cluster module; give each its own port (management: integrated assigns one in PORT) or listen with reusePort");
  }
  if (app.increment_var !== undefined) notes.push(`increment_var ${String(app.increment_var)}: use management: integrated (each instance gets its own port in PORT)`);
  const size = pm2Size(app.max_memory_restart);
  if (app.max_memory_restart !== undefined) {
    if (size === undefined) notes.push(`max_memory_restart ${JSON.stringify(app.max_memory_restart)} is not a size; not converted`);
    else worker.limits = { memory: { max_rss: size, policy: 'restart' } };
  }
  if (typeof app.cron_restart === 'string') worker.restart_schedule = app.cron_restart;
  const kill = pm2Duration(app.kill_timeout);
  if (kill !== undefined) worker.stop_timeout = kill;
  if (app.wait_ready === true) worker.wait_ready = true;
  const listen = pm2Duration(app.listen_timeout);
  if (listen !== undefined) worker.start_timeout = listen;
  if (app.watch !== undefined && app.watch !== false) {
    const ignore = argsOf(app.ignore_watch).filter((entry) => entry !== 'node_modules' && entry !== '.git').map((entry) => (/[*?]/.test(entry) ? entry : `${entry.replace(/\/$/, '')}/**`));
    const delay = pm2Duration(app.watch_delay);
    worker.watch = {
      ...(Array.isArray(app.watch) ? { paths: app.watch.map(String) } : typeof app.watch === 'string' ? { paths: [app.watch] } : {}),
      ...(ignore.length === 0 ? {} : { ignore }),
      ...(delay === undefined ? {} : { delay }),
    };
    notes.push('watch applies under `hsu run --watch` (a development mode), not in production');
  }
  if (app.time === true || app.log_date_format !== undefined) worker.logs = { timestamp: true };
  if (app.uid !== undefined || app.user !== undefined) worker.user = String(app.uid ?? app.user);
  if (app.gid !== undefined) worker.group = String(app.gid);
  for (const key of ['out_file', 'error_file', 'log_file', 'pid_file'] as const) {
    if (app[key] !== undefined) notes.push(`${key}: hsu writes <master.log_dir>/${id}.out.log and .err.log`);
  }
  if (app.shutdown_with_message === true) notes.push('shutdown_with_message: hsu stops with stop_signal (SIGTERM by default), not an IPC message');
  const unknown = Object.keys(app).filter((key) => !KNOWN.has(key) && !key.startsWith('env_'));
  if (unknown.length > 0) notes.push(`not converted: ${unknown.join(', ')}`);
  return { worker, notes };
}
