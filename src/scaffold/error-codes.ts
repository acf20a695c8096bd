/**
 * Error codes of the developer-experience rooms: TypeScript modules run without a build,
 * scaffolding (`hsu new`), the PM2 importer (`hsu import pm2`), watch mode and `hsu/testing`.
 * Dependency-free, like every code table.
 */
export const DX_ERROR_CODES = {
  // TypeScript modules
  MODULE_TS_UNSUPPORTED_SYNTAX: { status: 400, summary: 'the TypeScript module uses syntax Node cannot erase (enum, parameter property, namespace)' },
  MODULE_TS_UNSUPPORTED: { status: 400, summary: 'this TypeScript module cannot run without a build here' },
  // hsu new
  SCAFFOLD_KIND_UNKNOWN: { status: 400, summary: 'no project template of this kind' },
  SCAFFOLD_NAME_INVALID: { status: 400, summary: 'a project name is 1-214 of a-z 0-9 . _ -, starting with a letter or digit' },
  SCAFFOLD_TARGET_EXISTS: { status: 409, summary: 'the target directory exists and is not empty' },
  // hsu import pm2
  MIGRATE_FILE_UNREADABLE: { status: 400, summary: 'the PM2 ecosystem file cannot be read or evaluated' },
  MIGRATE_ECOSYSTEM_INVALID: { status: 400, summary: 'the PM2 ecosystem file has no apps list or an app is malformed' },
  MIGRATE_TARGET_EXISTS: { status: 409, summary: 'the output file exists (use --force to overwrite it)' },
  // watch mode
  WATCH_FAILED: { status: 500, summary: 'a path could not be watched' },
  // hsu/testing
  TEST_TIMEOUT: { status: 504, summary: 'a test wait did not see what it waited for in time' },
  TEST_LEFTOVER_PROCESSES: { status: 500, summary: 'processes started by a test master outlived it' },
} as const;
