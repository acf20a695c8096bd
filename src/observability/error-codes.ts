/** Error codes of observability: metrics, tracing, the dashboard and `hsu monit`. */
export const OBSERVABILITY_ERROR_CODES = {
  METRICS_DISABLED: { status: 404, summary: 'this master keeps no metrics (master.metrics.enabled is false, or nothing attached them)' },
  TRACING_FAILED: { status: 500, summary: 'tracing could not be started' },
  DASHBOARD_ASSET_MISSING: { status: 500, summary: 'a file of the dashboard is missing from the installed package' },
  MONIT_NOT_A_TERMINAL: { status: 400, summary: 'hsu monit needs an interactive terminal' },
} as const;
