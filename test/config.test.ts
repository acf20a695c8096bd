// Config schema, YAML loading and error reporting: defaults, resolved paths, and issues that point at the right line.
// test() returns a promise the runner tracks itself; `void` says so to the floating-promise rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { expectTypeOf } from 'expect-type';
import { isHsuError } from '../src/errors.js';
import {
  DEFAULTS,
  DURATION_HINT,
  STOP_SIGNALS,
  formatIssues,
  hsuConfigSchema,
  loadConfigFile,
  parseDuration,
  durationSchema,
  parseWorkerConfig,
  validateConfigFile,
  validateConfigText,
} from '../src/config/index.js';
import type { ConfigIssue, HealthCheckConfig, HsuConfig, HsuConfigInput, ModuleWorkerConfig, ProcessWorkerConfig, WorkerConfig } from '../src/config/index.js';
import { fixture } from './helpers/paths.js';

const FIXTURE_DIR = fixture('config');

/** Issues for YAML text that must be invalid. */
function issuesOf(yaml: string): ConfigIssue[] {
  const result = validateConfigText(yaml, 'hsu.yaml');
  assert.equal(result.ok, false, 'expected the config to be invalid');
  return result.ok ? [] : result.issues;
}

/** The one issue at `issuePath`, with a readable failure listing all issues otherwise. */
function issueAt(issues: ConfigIssue[], issuePath: string): ConfigIssue {
  const found = issues.filter((issue) => issue.path === issuePath);
  assert.equal(found.length, 1, `expected one issue at ${issuePath}, got:\n${formatIssues(issues)}`);
  return found[0] as ConfigIssue;
}

/** 1-based line of the only line of `text` containing `marker`. */
function lineOf(text: string, marker: string): number {
  const lines = text.split('\n');
  const matches = lines.flatMap((line, index) => (line.includes(marker) ? [index + 1] : []));
  assert.equal(matches.length, 1, `marker ${JSON.stringify(marker)} must appear on exactly one line`);
  return matches[0] as number;
}

function valid(yaml: string, file = path.join(FIXTURE_DIR, 'inline.yaml')): HsuConfig {
  const result = validateConfigText(yaml, file);
  assert.ok(result.ok, result.ok ? '' : formatIssues(result.issues));
  return result.config;
}

function worker<T extends WorkerConfig['type']>(config: HsuConfig, id: string, type: T): Extract<WorkerConfig, { type: T }> {
  const found = config.workers.find((w) => w.id === id);
  assert.ok(found !== undefined, `no worker ${id}`);
  assert.equal(found.type, type);
  return found as Extract<WorkerConfig, { type: T }>;
}

void test('durations: numbers are milliseconds, strings take ms/s/m/h', () => {
  assert.equal(parseDuration(250), 250);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('1.5s'), 1_500);
  assert.equal(parseDuration('5m'), 300_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration(0), 0);
  for (const bad of ['10', '10 s', '1d', '-1s', 's', '', -1, Number.NaN, Number.POSITIVE_INFINITY, null, true, {}]) {
    assert.throws(() => parseDuration(bad), (err: unknown) => isHsuError(err, 'CONFIG_INVALID'), `accepted ${String(bad)}`);
  }
  const result = durationSchema.safeParse('10 sec');
  assert.equal(result.success, false);
  assert.ok(result.error?.issues[0]?.message.includes(DURATION_HINT));
  assert.equal(durationSchema.parse('2m'), 120_000);
});

void test('full config file: every block parsed, durations in ms, paths resolved against the file', () => {
  const config = loadConfigFile(path.join(FIXTURE_DIR, 'full.yaml'));
  assert.deepEqual(config.master, {
    log_dir: path.join(FIXTURE_DIR, 'var/log'),
    state_dir: path.join(FIXTURE_DIR, 'run/hsu'),
    log_level: 'debug',
    shutdown_timeout: 60_000,
    inline_error_attribution: false,
    cgroups: 'auto',
    sample_interval: 1_000,
    packages: { repositories: [], trusted_keys: [] },
    api: { enabled: true, socket: true, max_body_bytes: 1024 * 1024 },
    metrics: { enabled: true, node: true, max_actions_per_worker: 64 },
    tracing: { enabled: false, exporter: 'otlp', headers: {}, sample_ratio: 1, service_name: 'hsu', lifecycle: true, export_delay: 1000 },
  });

  const web = worker(config, 'web', 'process');
  assert.deepEqual(web, {
    id: 'web',
    type: 'process',
    enabled: false,
    start_timeout: 5_000,
    stop_timeout: 1_500,
    stop_signal: 'SIGINT',
    restart: {
      policy: 'always',
      backoff: { initial: 250, max: 60_000, multiplier: 1.5, jitter: 0 },
      intensity: { max_restarts: 3, window: 120_000 },
      reset_after: 3_600_000,
    },
    health_check: { type: 'http', url: 'http://127.0.0.1:8080/health', interval: 2_000, timeout: 500, failure_threshold: 2, success_threshold: 1, initial_delay: 2_000 },
    depends_on: [],
    instances: 1,
    allow_downgrade: false,
    rollback_window: 60_000,
    management: 'managed',
    wait_ready: false,
    on_master_restart: 'adopt',
    execution: {
      executable_path: path.join(FIXTURE_DIR, 'bin/web'),
      args: ['--port', '8080'],
      environment: { PORT: '8080', MODE: 'production' },
      working_directory: path.join(FIXTURE_DIR, 'srv'),
      inherit_environment: false,
    },
  });

  const tool = worker(config, 'tool', 'process');
  assert.equal(tool.execution?.executable_path, 'node', 'a bare command stays for PATH lookup');
  assert.equal(tool.execution?.working_directory, FIXTURE_DIR, 'working directory defaults to the config dir');

  const hosted = worker(config, 'hosted', 'process');
  assert.equal(hosted.execution, undefined);
  assert.deepEqual(hosted.module, {
    module_type: 'plugin',
    module_path: path.join(FIXTURE_DIR, 'plugins/hosted.mjs'),
    entry_point: 'createHosted',
    config: { greeting: 'hi' },
    resource_limits: { max_old_generation_mb: 128, max_young_generation_mb: 16, stack_size_mb: 4 },
  });
  assert.deepEqual(hosted.health_check, { type: 'tcp', host: '127.0.0.1', port: 9000, interval: 10_000, timeout: 5_000, failure_threshold: 3, success_threshold: 1, initial_delay: 10_000 });

  const clock = worker(config, 'clock', 'module');
  assert.deepEqual(clock.module, { module_type: 'native', module_name: 'clock', config: { tick: '1s' }, isolation: 'inline' });
  assert.deepEqual(clock.health_check, { type: 'runtime', interval: 10_000, timeout: 5_000, failure_threshold: 3, success_threshold: 1, initial_delay: 10_000 });

  const threaded = worker(config, 'threaded', 'module');
  assert.deepEqual(threaded.module, {
    module_type: 'plugin',
    module_path: path.join(FIXTURE_DIR, 'plugins/threaded.js'),
    entry_point: 'default',
    config: {},
    isolation: 'thread',
    resource_limits: { max_old_generation_mb: 64 },
  });
});

void test('minimal config: every default filled in, matching DEFAULTS', () => {
  const config = valid(`
workers:
  - id: a
    type: process
    execution: { executable_path: node }
  - id: b
    type: module
    module: { module_type: plugin, module_path: b.mjs }
`);
  assert.deepEqual(config.master, {
    log_dir: path.join(FIXTURE_DIR, DEFAULTS.master.log_dir),
    state_dir: path.join(FIXTURE_DIR, DEFAULTS.master.state_dir),
    log_level: DEFAULTS.master.log_level,
    shutdown_timeout: parseDuration(DEFAULTS.master.shutdown_timeout),
    inline_error_attribution: DEFAULTS.master.inline_error_attribution,
    cgroups: DEFAULTS.master.cgroups,
    sample_interval: parseDuration(DEFAULTS.master.sample_interval),
    packages: { repositories: [], trusted_keys: [] },
    api: { enabled: true, socket: true, max_body_bytes: 1024 * 1024 },
    metrics: { enabled: true, node: true, max_actions_per_worker: 64 },
    tracing: { enabled: false, exporter: 'otlp', headers: {}, sample_ratio: 1, service_name: 'hsu', lifecycle: true, export_delay: 1000 },
  });
  const a = worker(config, 'a', 'process');
  assert.equal(a.enabled, true);
  assert.equal(a.start_timeout, 30_000);
  assert.equal(a.stop_timeout, 10_000);
  assert.equal(a.stop_signal, 'SIGTERM');
  assert.equal(a.management, 'managed');
  assert.equal(a.health_check, undefined, 'no health_check block means no periodic probe');
  assert.deepEqual(a.restart, {
    policy: 'on-failure',
    backoff: { initial: 100, max: 30_000, multiplier: 2, jitter: 0.2 },
    intensity: { max_restarts: 5, window: 60_000 },
    reset_after: 30_000,
  });
  assert.deepEqual(a.execution, { executable_path: 'node', args: [], environment: {}, inherit_environment: true, working_directory: FIXTURE_DIR });
  const b = worker(config, 'b', 'module');
  assert.deepEqual(b.module, { module_type: 'plugin', module_path: path.join(FIXTURE_DIR, 'b.mjs'), entry_point: 'default', config: {}, isolation: 'inline' });
  assert.deepEqual(valid('workers: []\n').workers, []);
});

void test('defaults are fresh per parse (no shared arrays or maps)', () => {
  const input = { workers: [{ id: 'a', type: 'process', execution: { executable_path: 'x' } }] };
  const first = hsuConfigSchema.parse(input);
  const second = hsuConfigSchema.parse(input);
  const exec = (c: HsuConfig) => (c.workers[0] as ProcessWorkerConfig).execution;
  exec(first)?.args.push('mutated');
  assert.deepEqual(exec(second)?.args, []);
});

void test('process worker needs exactly one of execution or module', () => {
  const yaml = `workers:
  - id: neither
    type: process
  - id: both
    type: process
    execution: { executable_path: node }
    module: { module_type: plugin, module_path: m.mjs }
`;
  const issues = issuesOf(yaml);
  assert.equal(issues.length, 2, formatIssues(issues));
  const neither = issueAt(issues, 'workers[0]');
  assert.equal(neither.line, lineOf(yaml, 'id: neither'));
  assert.match(neither.message, /exactly one of `execution`/);
  const both = issueAt(issues, 'workers[1].module');
  assert.equal(both.line, lineOf(yaml, 'module: {'));
  assert.match(both.message, /not both/);
});

void test('module hosted by a process worker: plugin only, no isolation, limits allowed', () => {
  const yaml = `workers:
  - id: native-host
    type: process
    module:
      module_type: native
      module_path: m.mjs
  - id: isolated
    type: process
    module:
      module_type: plugin
      module_path: m.mjs
      isolation: thread
`;
  const issues = issuesOf(yaml);
  const native = issueAt(issues, 'workers[0].module.module_type');
  assert.equal(native.line, lineOf(yaml, 'module_type: native'));
  assert.match(native.message, /native factory is registered in the master's code/);
  assert.match(native.message, /use module_type: plugin/);
  const isolation = issueAt(issues, 'workers[1].module.isolation');
  assert.equal(isolation.line, lineOf(yaml, 'isolation: thread'));
  assert.match(isolation.message, /already runs in its own process/);
  assert.equal(issues.length, 2, formatIssues(issues));
});

void test('module worker rules: execution, native in a thread, limits on inline modules', () => {
  const yaml = `workers:
  - id: with-exec
    type: module
    execution: { executable_path: node }
    module: { module_type: plugin, module_path: m.mjs }
  - id: native-thread
    type: module
    module:
      module_type: native
      module_name: clock
      isolation: thread
  - id: limited-inline
    type: module
    module:
      module_type: plugin
      module_path: m.mjs
      resource_limits: { max_old_generation_mb: 64 }
  - id: no-module
    type: module
`;
  const issues = issuesOf(yaml);
  const exec = issueAt(issues, 'workers[0].execution');
  assert.equal(exec.line, lineOf(yaml, 'execution: {'));
  assert.match(exec.message, /only for type: process/);
  const nativeThread = issueAt(issues, 'workers[1].module.module_type');
  assert.equal(nativeThread.line, lineOf(yaml, 'module_type: native'));
  assert.match(nativeThread.message, /cannot be loaded in another thread or process/);
  const limits = issueAt(issues, 'workers[2].module.resource_limits');
  assert.equal(limits.line, lineOf(yaml, 'resource_limits:'));
  assert.match(limits.message, /share the master's heap/);
  assert.match(limits.message, /isolation: thread/);
  const missing = issueAt(issues, 'workers[3].module');
  assert.equal(missing.line, lineOf(yaml, 'id: no-module'));
  assert.equal(missing.expected, 'object');
  assert.equal(issues.length, 4, formatIssues(issues));
});

void test('module block: native/plugin keys do not mix, module_path must be a JS or TS file', () => {
  const yaml = `workers:
  - id: native
    type: module
    module: { module_type: native, module_name: clock, entry_point: make }
  - id: plugin
    type: module
    module: { module_type: plugin, module_path: ./m.py, module_name: clock }
  - id: weird
    type: module
    module: { module_type: dll }
`;
  const issues = issuesOf(yaml);
  const entry = issueAt(issues, 'workers[0].module.entry_point');
  assert.match(entry.message, /only for module_type: plugin/);
  const modulePath = issueAt(issues, 'workers[1].module.module_path');
  assert.match(modulePath.message, /\.mjs, \.js, \.cjs, \.ts, \.mts or \.cts/);
  const name = issueAt(issues, 'workers[1].module.module_name');
  assert.match(name.message, /only for module_type: native/);
  assert.equal(name.line, lineOf(yaml, 'id: plugin') + 2);
  const kind = issueAt(issues, 'workers[2].module.module_type');
  assert.deepEqual(kind.choices, ['native', 'plugin']);
});

void test('unknown worker type lists the valid types', () => {
  const yaml = `workers:
  - id: a
    type: daemon
  - id: b
`;
  const issues = issuesOf(yaml);
  const unknown = issueAt(issues, 'workers[0].type');
  assert.equal(unknown.line, 3);
  assert.equal(unknown.column, 11);
  assert.ok(unknown.message.includes('expected one of: process, module'), unknown.message);
  assert.ok(unknown.message.includes('"daemon"'), unknown.message);
  assert.deepEqual(unknown.choices, ['process', 'module']);
  const missing = issueAt(issues, 'workers[1].type');
  assert.equal(missing.line, 4);
  assert.match(missing.message, /required/);
});

void test('unknown keys are reported at the key and list the valid keys', () => {
  const yaml = `master:
  log_level: info
  colour: blue
workers:
  - id: a
    type: process
    execution:
      executable_path: node
      argv: [x]
      env: {}
`;
  const issues = issuesOf(yaml);
  const colour = issueAt(issues, 'master.colour');
  assert.equal(colour.line, 3);
  assert.equal(colour.column, 3);
  assert.ok(colour.message.includes('unknown key "colour"'), colour.message);
  assert.ok(colour.message.includes('log_dir, state_dir, log_level, shutdown_timeout, inline_error_attribution'), colour.message);
  assert.deepEqual(colour.choices, ['log_dir', 'state_dir', 'log_level', 'shutdown_timeout', 'inline_error_attribution', 'cgroups', 'sample_interval', 'packages', 'api', 'cluster', 'metrics', 'tracing', 'env']);
  // Two unknown keys in one object become two issues, each on its own line.
  const argv = issueAt(issues, 'workers[0].execution.argv');
  assert.equal(argv.line, lineOf(yaml, 'argv:'));
  assert.deepEqual(argv.choices, ['executable_path', 'args', 'environment', 'working_directory', 'inherit_environment']);
  assert.equal(issueAt(issues, 'workers[0].execution.env').line, lineOf(yaml, 'env:'));
  // The top level is strict too.
  assert.deepEqual(issueAt(issuesOf('workers: []\nversion: 2\n'), 'version').choices, ['master', 'workers']);
});

void test('a misspelt key says which key it is a typo of, and then lists no valid keys', () => {
  const yaml = `master:
  log_levle: info
  stateDir: ./s
workers:
  - id: a
    type: process
    execution: { executable_path: node, argv: [x] }
    stopTimeout: 3s
    restart: { polcy: always }
    healthcheck: { type: tcp, port: 1 }
    colour: blue
`;
  const issues = issuesOf(yaml);
  const cases: [string, string][] = [
    ['master.log_levle', 'log_level'],
    ['master.stateDir', 'state_dir'],
    ['workers[0].execution.argv', 'args'],
    ['workers[0].stopTimeout', 'stop_timeout'],
    ['workers[0].restart.polcy', 'policy'],
    ['workers[0].healthcheck', 'health_check'],
  ];
  for (const [path, meant] of cases) {
    const issue = issueAt(issues, path);
    assert.ok(issue.message.endsWith(`did you mean \`${meant}\`?`), issue.message);
    assert.ok(!issue.message.includes('valid keys'), `no list once the key is named: ${issue.message}`);
    assert.ok(issue.choices?.includes(meant), 'the valid keys stay in the structured issue');
  }
  // Nothing close: the valid keys, as before.
  assert.match(issueAt(issues, 'workers[0].colour').message, /unknown key "colour" \(valid keys: id, type, /);
});

void test('a list of valid keys is printed once; later lines with the same list point back to it', () => {
  const yaml = `workers:
  - id: a
    type: process
    execution: { executable_path: node }
    foo1: 1
    foo2: 1
  - id: b
    type: process
    execution: { executable_path: node }
    bar1: 1
`;
  const issues = issuesOf(yaml);
  // Each issue keeps its whole message (for --json and the API); the printed lines fold the repeats.
  for (const path of ['workers[0].foo1', 'workers[0].foo2', 'workers[1].bar1']) assert.match(issueAt(issues, path).message, /\(valid keys: id, type, /);
  const lines = formatIssues(issues).split('\n');
  assert.match(lines.find((l) => l.includes('workers[0].foo1'))!, /unknown key "foo1" \(valid keys: id, type, /);
  for (const path of ['workers[0].foo2', 'workers[1].bar1']) {
    assert.match(lines.find((l) => l.includes(path))!, /unknown key "(foo2|bar1)" \(valid keys as listed for workers\[0\]\.foo1\)$/);
  }
  // Another object's list is its own.
  assert.match(formatIssues(issuesOf('workers: []\nmaster: { colour: 1 }\n')), /\(valid keys: log_dir, /);
});

void test('a misspelt value of a fixed set names the value it meant', () => {
  const issues = issuesOf(`master:
  log_level: infp
workers:
  - id: a
    type: proces
    execution: { executable_path: node }
  - id: b
    type: process
    execution: { executable_path: node }
    restart: { policy: alwayss }
`);
  assert.match(issueAt(issues, 'workers[0].type').message, /got "proces"; did you mean `process`\?$/);
  assert.match(issueAt(issues, 'workers[1].restart.policy').message, /got "alwayss"; did you mean `always`\?$/);
  assert.match(issueAt(issues, 'master.log_level').message, /did you mean `info`\?$/);
  // Nothing close: the choices alone.
  assert.doesNotMatch(issueAt(issuesOf('workers:\n  - id: a\n    type: banana\n'), 'workers[0].type').message, /did you mean/);
});

void test("another supervisor's keys say where hsu has them (PM2's script, compose's command, cwd)", () => {
  const yaml = `workers:
  - id: a
    type: process
    command: sleep
    args: ['1']
    cwd: /tmp
    script: app.js
  - id: m
    type: module
    script: ./m.js
    module: { module_type: plugin, module_path: ./m.js }
`;
  const issues = issuesOf(yaml);
  const expected: [string, number, RegExp][] = [
    ['workers[0].command', 4, /unknown key "command": the program goes in `execution: \{ executable_path/],
    ['workers[0].args', 5, /arguments go in `execution\.args`/],
    ['workers[0].cwd', 6, /`execution\.working_directory`/],
    ['workers[0].script', 7, /`execution\.executable_path`.*hsu import pm2/],
    ['workers[1].script', 10, /a module worker runs the code its `module:` block names/],
  ];
  for (const [path, line, message] of expected) {
    const issue = issueAt(issues, path);
    assert.match(issue.message, message);
    assert.equal(issue.line, line, path);
  }
});

void test('enums list their choices and the bad value', () => {
  const yaml = `master:
  log_level: loud
workers:
  - id: a
    type: process
    stop_signal: SIGSTOP
    management: remote
    execution: { executable_path: node }
    restart:
      policy: sometimes
    health_check:
      type: smoke-signal
`;
  const issues = issuesOf(yaml);
  const policy = issueAt(issues, 'workers[0].restart.policy');
  assert.equal(policy.line, lineOf(yaml, 'policy: sometimes'));
  assert.ok(policy.message.includes('expected one of always, on-failure, never, got "sometimes"'), policy.message);
  assert.deepEqual(policy.choices, ['always', 'on-failure', 'never']);
  assert.deepEqual(issueAt(issues, 'master.log_level').choices, ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
  assert.deepEqual(issueAt(issues, 'workers[0].stop_signal').choices, [...STOP_SIGNALS]);
  const management = issueAt(issues, 'workers[0].management');
  assert.deepEqual(management.choices, ['managed', 'integrated', 'unmanaged']);
  assert.match(management.message, /expected one of managed, integrated, unmanaged, got "remote"/);
  assert.deepEqual(issueAt(issues, 'workers[0].health_check.type').choices, ['runtime', 'http', 'tcp', 'grpc', 'exec']);
  assert.equal(issues.length, 5, formatIssues(issues));
});

void test('worker ids: pattern and uniqueness', () => {
  const yaml = `workers:
  - id: web
    type: process
    execution: { executable_path: node }
  - id: "has space"
    type: process
    execution: { executable_path: node }
  - id: web
    type: module
    module: { module_type: native, module_name: clock }
  - id: ${'x'.repeat(65)}
    type: process
    execution: { executable_path: node }
`;
  const issues = issuesOf(yaml);
  const bad = issueAt(issues, 'workers[1].id');
  assert.equal(bad.line, lineOf(yaml, 'has space'));
  assert.match(bad.message, /1-64 characters/);
  const duplicate = issueAt(issues, 'workers[2].id');
  assert.equal(duplicate.line, 8);
  assert.ok(duplicate.message.includes('workers[0]'), duplicate.message);
  assert.ok(duplicate.message.includes('"web"'), duplicate.message);
  assert.equal(issueAt(issues, 'workers[3].id').line, 11);
  assert.equal(issues.length, 3, formatIssues(issues));
});

void test('execution: strings only, with a hint to quote YAML numbers and booleans', () => {
  const yaml = `workers:
  - id: a
    type: process
    execution:
      executable_path: ""
      args: [--port, 8080]
      environment:
        PORT: 8080
        VERBOSE: true
        NAME: ok
`;
  const issues = issuesOf(yaml);
  assert.match(issueAt(issues, 'workers[0].execution.executable_path').message, /must not be empty/);
  const arg = issueAt(issues, 'workers[0].execution.args[1]');
  assert.equal(arg.line, lineOf(yaml, 'args:'));
  assert.equal(arg.column, 22);
  assert.match(arg.message, /quote it/);
  const port = issueAt(issues, 'workers[0].execution.environment.PORT');
  assert.equal(port.line, lineOf(yaml, 'PORT:'));
  assert.match(port.message, /quote it in YAML: "8080"/);
  assert.match(issueAt(issues, 'workers[0].execution.environment.VERBOSE').message, /quote it in YAML: "true"/);
  assert.equal(issues.length, 4, formatIssues(issues));
});

void test('restart and health check values are range-checked; probe keys depend on type', () => {
  const yaml = `workers:
  - id: a
    type: process
    execution: { executable_path: node }
    start_timeout: soon
    restart:
      backoff: { initial: 1m, max: 1s, multiplier: 0.5, jitter: 1.5 }
      intensity: { max_restarts: -1 }
    health_check:
      type: http
      port: 80
  - id: b
    type: process
    execution: { executable_path: node }
    health_check: { type: tcp, url: "http://x", port: 70000, failure_threshold: 0 }
  - id: c
    type: process
    execution: { executable_path: node }
    health_check: { type: http, url: "ftp://example.com" }
`;
  const issues = issuesOf(yaml);
  const start = issueAt(issues, 'workers[0].start_timeout');
  assert.ok(start.message.includes(DURATION_HINT), start.message);
  assert.equal(start.expected, 'duration');
  assert.equal(start.line, lineOf(yaml, 'start_timeout: soon'));
  assert.match(issueAt(issues, 'workers[0].restart.backoff.multiplier').message, />= 1/);
  assert.match(issueAt(issues, 'workers[0].restart.backoff.jitter').message, /<= 1/);
  assert.match(issueAt(issues, 'workers[0].restart.intensity.max_restarts').message, />= 0/);
  const url = issueAt(issues, 'workers[0].health_check.url');
  assert.match(url.message, /required when type is http/);
  assert.equal(url.line, 10, 'a missing key points at its mapping');
  assert.match(issueAt(issues, 'workers[0].health_check.port').message, /only used when type is tcp/);
  assert.match(issueAt(issues, 'workers[1].health_check.url').message, /only used when type is http/);
  assert.match(issueAt(issues, 'workers[1].health_check.port').message, /<= 65535/);
  assert.match(issueAt(issues, 'workers[1].health_check.failure_threshold').message, />= 1/);
  assert.match(issueAt(issues, 'workers[2].health_check.url').message, /http:\/\/ or https:\/\//);
  assert.match(issueAt(issues, 'workers[0].restart.backoff.initial').message, /must not exceed max/);
  assert.equal(issues.length, 11, formatIssues(issues));
  const order = issues.map((issue) => [issue.line ?? 0, issue.column ?? 0] as const);
  assert.deepEqual(order, [...order].sort((x, y) => x[0] - y[0] || x[1] - y[1]), 'issues come in source order');
});

void test('several problems across the file are all reported at once', () => {
  const yaml = `master:
  shutdown_timeout: forever
workers:
  - id: a
    type: process
  - id: a
    type: module
    module: { module_type: native }
  - id: c
    type: nope
`;
  const issues = issuesOf(yaml);
  assert.deepEqual(
    issues.map((issue) => [issue.path, issue.line]),
    [
      ['master.shutdown_timeout', 2],
      ['workers[0]', 4],
      ['workers[1].id', 6],
      ['workers[1].module.module_name', 8],
      ['workers[2].type', 10],
    ],
  );
  assert.ok(issues.every((issue) => issue.file === 'hsu.yaml' && issue.column !== undefined));
});

void test('YAML syntax errors and empty documents become issues with a line', () => {
  const broken = issuesOf('workers:\n  - id: a\n    type: process\n  execution: [\n');
  assert.ok(broken.length >= 1);
  assert.ok(broken.every((issue) => typeof issue.line === 'number' && issue.line >= 1), formatIssues(broken));
  assert.match(broken[0]?.message ?? '', /YAML syntax error/);
  const duplicateKey = issuesOf('workers: []\nmaster: {}\nmaster: {}\n');
  assert.equal(duplicateKey[0]?.line, 3);
  const empty = issuesOf('');
  assert.equal(empty[0]?.line, 1);
  assert.match(empty[0]?.message ?? '', /empty/);
  assert.equal(issueAt(issuesOf('master: {}\n'), 'workers').expected, 'array');
  assert.match(issueAt(issuesOf('- 1\n'), '').message, /expected a mapping/);
});

void test('loadConfigFile: missing file is CONFIG_NOT_FOUND, invalid file is CONFIG_INVALID with every issue', () => {
  const missing = path.join(FIXTURE_DIR, 'does-not-exist.yaml');
  assert.throws(() => loadConfigFile(missing), (err: unknown) => isHsuError(err, 'CONFIG_NOT_FOUND'));
  assert.throws(() => validateConfigFile(missing), (err: unknown) => isHsuError(err, 'CONFIG_NOT_FOUND'));
  const invalid = path.join(FIXTURE_DIR, 'invalid.yaml');
  assert.throws(
    () => loadConfigFile(invalid),
    (err: unknown) => {
      assert.ok(isHsuError(err, 'CONFIG_INVALID'));
      assert.equal(err.code, 'HSU_ERR_CONFIG_INVALID');
      const issues = err.context['issues'] as ConfigIssue[];
      assert.deepEqual(
        issues.map((issue) => issue.path),
        ['workers[0].restart.policy', 'workers[0].execution.executable_path'],
      );
      assert.ok(err.message.includes(`${invalid}:5:15  workers[0].restart.policy  expected one of always, on-failure, never`), err.message);
      assert.ok(err.message.includes(`${invalid}:7:`), err.message);
      return true;
    },
  );
  const result = validateConfigFile(invalid);
  assert.equal(result.ok, false);
});

void test('parseWorkerConfig: same rules, paths relative to the worker, CONFIG_INVALID with issues', () => {
  assert.throws(
    () => parseWorkerConfig({ id: 'w', type: 'process', execution: { executable_path: 'node', args: ['ok', 1] }, restart: { policy: 'sometimes' } }),
    (err: unknown) => {
      assert.ok(isHsuError(err));
      assert.equal(err.code, 'HSU_ERR_CONFIG_INVALID');
      const issues = err.context['issues'] as ConfigIssue[];
      assert.deepEqual(issues.map((issue) => issue.path).sort(), ['execution.args[1]', 'restart.policy']);
      assert.ok(issues.every((issue) => issue.line === undefined && issue.file === undefined));
      assert.ok(err.message.includes('always, on-failure, never'), err.message);
      return true;
    },
  );
  assert.throws(() => parseWorkerConfig({ id: 'w', type: 'thread' }), (err: unknown) => isHsuError(err, 'CONFIG_INVALID'));
  assert.throws(() => parseWorkerConfig('web'), (err: unknown) => isHsuError(err, 'CONFIG_INVALID'));
});

void test('parseWorkerConfig: resolves paths against baseDir and accepts its own output again', () => {
  const base = path.join(path.sep, 'srv', 'app');
  const parsed = parseWorkerConfig(
    { id: 'w', type: 'process', execution: { executable_path: 'bin/run.sh', args: ['-v'] }, stop_timeout: '2s', health_check: { type: 'tcp', port: 81 } },
    base,
  );
  assert.equal(parsed.type, 'process');
  assert.equal(parsed.stop_timeout, 2_000);
  if (parsed.type !== 'process') return;
  assert.equal(parsed.execution?.executable_path, path.join(base, 'bin/run.sh'));
  assert.equal(parsed.execution?.working_directory, base);
  assert.deepEqual(parseWorkerConfig(parsed, '/elsewhere'), parsed);

  const plugin = parseWorkerConfig({ id: 'm', type: 'module', module: { module_type: 'plugin', module_path: './m.mjs' } }, base);
  assert.equal(plugin.type === 'module' && plugin.module.module_type === 'plugin' ? plugin.module.module_path : '', path.join(base, 'm.mjs'));
  const native = parseWorkerConfig({ id: 'n', type: 'module', module: { module_type: 'native', module_name: 'clock' } });
  assert.deepEqual(native.type === 'module' ? native.module : undefined, { module_type: 'native', module_name: 'clock', config: {}, isolation: 'inline' });
});

void test('formatIssues: one line per issue, file:line:col  path  message', () => {
  const text = formatIssues([
    { file: 'hsu.yaml', line: 3, column: 5, path: 'workers[0].id', message: 'bad id' },
    { path: 'restart.policy', message: 'bad policy' },
  ]);
  assert.equal(text, 'hsu.yaml:3:5  workers[0].id  bad id\nrestart.policy  bad policy');
});

void test('config types come from the schema: durations are numbers, inputs accept strings', () => {
  expectTypeOf<HsuConfig['master']['shutdown_timeout']>().toEqualTypeOf<number>();
  expectTypeOf<ProcessWorkerConfig['stop_timeout']>().toEqualTypeOf<number>();
  expectTypeOf<ModuleWorkerConfig['module']['isolation']>().toEqualTypeOf<'inline' | 'thread'>();
  expectTypeOf<HealthCheckConfig['type']>().toEqualTypeOf<'runtime' | 'http' | 'tcp' | 'grpc' | 'exec'>();
  expectTypeOf<Extract<HealthCheckConfig, { type: 'tcp' }>['port']>().toEqualTypeOf<number | undefined>();
  expectTypeOf<{ workers: [] }>().toExtend<HsuConfigInput>();
  expectTypeOf<{ id: string; type: 'process'; stop_timeout: string; execution: { executable_path: string } }>().toExtend<HsuConfigInput['workers'][number]>();
  assert.ok(true);
});

void test('durations beyond what a timer can hold, and a zero start timeout, are refused', () => {
  const yaml = `
master:
  shutdown_timeout: 1000h
workers:
  - id: a
    type: process
    start_timeout: 0
    stop_timeout: 25d
    execution: { executable_path: node }
`;
  const issues = issuesOf(yaml);
  assert.match(issueAt(issues, 'master.shutdown_timeout').message, /too long/);
  assert.equal(issueAt(issues, 'master.shutdown_timeout').line, lineOf(yaml, '1000h'));
  assert.match(issueAt(issues, 'workers[0].start_timeout').message, /greater than 0/);
  // '25d' is not a unit we accept at all; the message names the accepted forms.
  assert.match(issueAt(issues, 'workers[0].stop_timeout').message, /"10s"/);
  const atLimit = valid(`
workers:
  - id: a
    type: process
    stop_timeout: 596h
    execution: { executable_path: node }
`);
  assert.equal(atLimit.workers[0]?.stop_timeout, 596 * 3_600_000);
});
