/**
 * Every config default in one place, in the form a user would write it. The schemas read these
 * values and the docs print them, so the two cannot drift apart.
 */
export const DEFAULTS = {
  master: {
    log_dir: 'logs',
    state_dir: '.hsu',
    log_level: 'info',
    shutdown_timeout: '30s',
    inline_error_attribution: true,
    cgroups: 'auto',
    sample_interval: '1s',
  },
  worker: {
    enabled: true,
    start_timeout: '30s',
    stop_timeout: '10s',
    stop_signal: 'SIGTERM',
    management: 'managed',
  },
  restart: {
    policy: 'on-failure',
    backoff: { initial: '100ms', max: '30s', multiplier: 2, jitter: 0.2 },
    intensity: { max_restarts: 5, window: '60s' },
    reset_after: '30s',
  },
  health_check: {
    type: 'runtime',
    host: '127.0.0.1',
    interval: '10s',
    timeout: '5s',
    failure_threshold: 3,
    success_threshold: 1,
    initial_delay: '<one interval>',
  },
  readiness: {
    interval: '200ms',
    timeout: '1s',
    success_threshold: 1,
  },
  integration: {
    port: 0,
    host: '127.0.0.1',
    port_env: 'PORT',
  },
  execution: {
    args: [],
    environment: {},
    working_directory: '<directory of the config file>',
    inherit_environment: true,
  },
  module: {
    entry_point: 'default',
    config: {},
    isolation: 'inline',
  },
} as const;
