/**
 * What only a process worker has: how its process is started (user, group, umask, rlimits,
 * applied before exec by the launcher), enforced resource `limits`, what happens to it when the
 * master restarts after a crash, and for `management: unmanaged` how the master finds it.
 */
import * as z from 'zod';
import { limitsSchema } from '../limits/schema.js';
import { durationSchema } from './duration.js';
import { yamlString } from './schema-common.js';

const userOrId = z.union([yamlString.min(1), z.number().int().min(0)]);

const rlimitBound = z.union([z.number().int().min(0), z.literal('unlimited')]);
const rlimitValue = z.union([rlimitBound, z.strictObject({ soft: rlimitBound, hard: rlimitBound })]);

export const rlimitsSchema = z.strictObject({
  /** Open files (RLIMIT_NOFILE). */
  nofile: rlimitValue.optional(),
  /** Core file size in bytes (RLIMIT_CORE); 0 disables core dumps. */
  core: rlimitValue.optional(),
  /** Processes of the user (RLIMIT_NPROC). */
  nproc: rlimitValue.optional(),
});

/** Octal, written as a string ("027"): YAML would read 027 as the number 27. */
const umaskSchema = z.union([
  yamlString.regex(/^[0-7]{1,4}$/, { error: 'expected an octal umask like "022" or "0027"' }),
  z.number().int().min(0).max(0o777),
]);

export const ON_MASTER_RESTART = ['adopt', 'stop'] as const;

/** `management: unmanaged`: exactly one way to find the process, and what the master may do to it. */
export const unmanagedSchema = z
  .strictObject({
    pid_file: yamlString.min(1).optional(),
    process_name: yamlString.min(1).optional(),
    command_pattern: yamlString.min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    /** The master may stop it (with the worker's stop_signal); otherwise a stop only detaches. */
    allow_stop: z.boolean().default(false),
    /** A master shutting down stops it too (needs allow_stop); by default it is left running. */
    stop_on_shutdown: z.boolean().default(false),
    /** How often to look for the process while attaching (the start timeout bounds the wait). */
    attach_interval: durationSchema.prefault('500ms'),
  })
  .superRefine((block, ctx) => {
    const ways = (['pid_file', 'process_name', 'command_pattern', 'port'] as const).filter((key) => block[key] !== undefined);
    // process_name may narrow a pid_file (the pid must also be that program).
    const main = ways.filter((key) => !(key === 'process_name' && block.pid_file !== undefined));
    if (main.length !== 1) {
      ctx.addIssue({ code: 'custom', path: [], message: `exactly one of pid_file, process_name, command_pattern or port (got ${ways.length === 0 ? 'none' : ways.join(', ')})` });
    }
    if (block.command_pattern !== undefined) {
      try {
        new RegExp(block.command_pattern);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['command_pattern'], message: `not a regular expression: ${(error as Error).message}` });
      }
    }
    if (block.stop_on_shutdown && !block.allow_stop) ctx.addIssue({ code: 'custom', path: ['stop_on_shutdown'], message: 'stop_on_shutdown needs allow_stop: true' });
  });

/** Fields of `type: process` workers beyond execution/module. */
export const processExtrasShape = {
  user: userOrId.optional(),
  group: userOrId.optional(),
  umask: umaskSchema.optional(),
  rlimits: rlimitsSchema.optional(),
  limits: limitsSchema.optional(),
  /** After a crash of the master: adopt the still-running process (same pid, supervised again) or stop it. */
  on_master_restart: z.enum(ON_MASTER_RESTART).default('adopt'),
  unmanaged: unmanagedSchema.optional(),
};
