/**
 * A worker's `watch:` key, read only by `hsu run --watch`:
 *   watch: false                                  # never restarted for a file change
 *   watch: { paths: [src, "conf/*.json"], ignore: ["**\/*.tmp"], delay: 100ms }
 * Without `paths` a worker is watched on its code: a module file and its local imports, a Node
 * script and its local imports, or the working directory of any other executable.
 */
import * as z from 'zod';
import { durationSchema } from '../config/duration.js';
import { yamlString } from '../config/schema-common.js';

export const DEFAULT_WATCH_DELAY_MS = 100;

export const watchBlockSchema = z.strictObject({
  /** Files, directories or globs (relative to the config file's directory); replace the default set. */
  paths: z.array(yamlString.min(1)).min(1).optional(),
  /** Globs never watched, beside the built-in ones (the master's log and state dirs, node_modules, .git). */
  ignore: z.array(yamlString.min(1)).prefault([]),
  /** Quiet time after the last change before the worker is restarted. */
  delay: durationSchema.prefault(`${DEFAULT_WATCH_DELAY_MS}ms`),
});

export const watchSchema = z.union([z.boolean(), watchBlockSchema]);

export type WatchBlock = z.output<typeof watchBlockSchema>;
export type WatchSetting = z.output<typeof watchSchema>;
