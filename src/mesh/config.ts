/**
 * Parsing of the mesh's config blocks (`service:`, `balancer:`, `resilience:`, `autoscale:`) with
 * the project's issue wording: every problem is one located sentence (`resilience.retry.max_attempts
 * expected a number >= 1, got 0`) inside one CONFIG_INVALID error. The master parses these blocks as
 * part of the worker schema; these helpers serve library users who build the parts directly.
 */
import type * as z from 'zod';
import { configErrorMap, formatIssues, toConfigIssues, type ConfigIssue } from '../config/issues.js';
import { hsuError, type ErrorCodeKey } from '../errors.js';

/**
 * Validates `input` against `schema`; throws CONFIG_INVALID whose context lists the issues, each
 * path prefixed by `where` (e.g. `services.api.balancer`). Registrations from outside pass
 * INSTANCE_INVALID as `code`.
 */
export function parseBlock<S extends z.ZodType>(schema: S, input: unknown, where: string, code: ErrorCodeKey = 'CONFIG_INVALID'): z.output<S> {
  const result = schema.safeParse(input, { error: configErrorMap });
  if (result.success) return result.data;
  const issues: ConfigIssue[] = toConfigIssues(result.error.issues, { schema, data: input }).map((issue) => ({
    ...issue,
    path: issue.path === '' ? where : issue.path.startsWith('[') ? `${where}${issue.path}` : `${where}.${issue.path}`,
  }));
  const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
  const lines = formatIssues(issues)
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
  throw hsuError(code, `invalid ${where} (${count}):\n${lines}`, { issues });
}
