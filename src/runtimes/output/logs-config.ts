/**
 * The `logs:` block every worker may carry:
 *   logs: { max_size: 64MiB, keep: 5, gzip: true, timestamp: false }
 * The schema is the single source of the types; `resolveLogSettings` fills the defaults that
 * depend on each other (`keep` is all segments without max_size, 5 with it).
 */
import * as z from 'zod';
import { sizeSchema } from '../../limits/size.js';

/** Segments kept when max_size is set and keep is not. */
export const DEFAULT_KEEP = 5;

export const logsSchema = z.strictObject({
  /** Bytes per segment ("10MB", "64MiB" or a number); unset: one segment per writer, never rotated. */
  max_size: sizeSchema.optional(),
  /** Segments kept, the newest included; older ones are deleted. */
  keep: z.int().min(1).optional(),
  /** Compress every segment but the newest to .log.gz. */
  gzip: z.boolean().default(false),
  /** Prefix each line with its ISO-8601 arrival time; the master then writes the file (see docs/logs.md). */
  timestamp: z.boolean().default(false),
});

export type LogsConfig = z.output<typeof logsSchema>;
export type LogsConfigInput = z.input<typeof logsSchema>;

export interface LogSettings {
  readonly max_size: number | null;
  /** null: keep every segment. */
  readonly keep: number | null;
  readonly gzip: boolean;
  readonly timestamp: boolean;
}

export const DEFAULT_LOG_SETTINGS: LogSettings = { max_size: null, keep: null, gzip: false, timestamp: false };

export function resolveLogSettings(config: LogsConfig | undefined): LogSettings {
  if (config === undefined) return DEFAULT_LOG_SETTINGS;
  const max_size = config.max_size ?? null;
  return { max_size, keep: config.keep ?? (max_size === null ? null : DEFAULT_KEEP), gzip: config.gzip, timestamp: config.timestamp };
}
