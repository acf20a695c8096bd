/**
 * Error codes of the control plane: the HTTP API, its clients (the `hsu` CLI commands that talk to
 * a running master), daemon mode and config reload. Dependency-free: the CLI client loads it
 * through the catalogue without loading anything else.
 */
export const API_ERROR_CODES = {
  // HTTP API
  API_UNAUTHORIZED: { status: 401, summary: 'missing or wrong API token' },
  API_BAD_JSON: { status: 400, summary: 'request body is not valid JSON' },
  API_BAD_REQUEST: { status: 400, summary: 'request is malformed' },
  API_BODY_TOO_LARGE: { status: 413, summary: 'request body is larger than the limit' },
  API_ROUTE_NOT_FOUND: { status: 404, summary: 'no such endpoint' },
  API_NO_LOG_FILES: { status: 404, summary: 'this worker writes no log files' },
  API_LOG_REFUSED: { status: 403, summary: 'a log path that is not a regular file (a symlink, a FIFO) is not read' },
  API_RELOAD_UNAVAILABLE: { status: 409, summary: 'this master has no config file to reload' },
  API_SHUTDOWN_UNAVAILABLE: { status: 409, summary: 'this master cannot be shut down through the API' },
  API_SCALE_UNSUPPORTED: { status: 409, summary: 'this worker\'s replica count cannot be changed in place' },
  API_NO_CONFIG: { status: 409, summary: 'this master was not made from a config file: there is no master.api block to serve' },
  // API settings and listening
  API_CONFIG_INVALID: { status: 400, summary: 'the master.api settings are invalid' },
  API_INSECURE_LISTEN: { status: 400, summary: 'a non-loopback address needs a configured token and TLS' },
  API_LISTEN_FAILED: { status: 500, summary: 'the control API could not listen' },
  API_TOKEN_UNUSABLE: { status: 500, summary: 'the API token cannot be read or written' },
  // clients
  CLIENT_NO_MASTER: { status: 503, summary: 'no master is running for this state directory' },
  CLIENT_BAD_RESPONSE: { status: 502, summary: 'the master answered with something that is not the control API' },
  // daemon mode and startup units
  DAEMON_START_FAILED: { status: 500, summary: 'the daemon did not start' },
  STARTUP_NOT_ROOT: { status: 403, summary: 'installing a systemd unit needs root' },
  // reload
  RELOAD_FAILED: { status: 500, summary: 'part of a config reload could not be applied' },
} as const;
