/**
 * `index.json`: what a repository offers. Served over HTTP(S) or kept in a package directory;
 * `url` may be relative to the index itself. Strict like package.yaml: an unknown key is an error
 * (a new format gets a new `format` number instead).
 */
import * as z from 'zod';
import { configErrorMap, formatIssues, toConfigIssues } from '../../config/issues.js';
import { hsuError } from '../../errors.js';
import { isSha256 } from '../archive/checksum.js';
import { exactVersionSchema, packageNameSchema, versionRangeSchema } from '../manifest/schema.js';

export const INDEX_FORMAT = 1;

const indexEntrySchema = z.strictObject({
  name: packageNameSchema,
  version: exactVersionSchema,
  url: z.string().min(1),
  sha256: z.string().refine(isSha256, { error: 'expected 64 lowercase hex digits' }),
  size: z.number().int().min(0).optional(),
  signature: z.string().min(1).optional(),
  description: z.string().optional(),
  dependencies: z.array(z.strictObject({ name: packageNameSchema, version: versionRangeSchema })).optional(),
});

export const repositoryIndexSchema = z.strictObject({
  format: z.literal(INDEX_FORMAT),
  packages: z.array(indexEntrySchema),
});

export type RepositoryIndex = z.output<typeof repositoryIndexSchema>;
export type IndexEntry = RepositoryIndex['packages'][number];

/** Parses index JSON; throws PACKAGE_INDEX_INVALID naming the index and every problem. */
export function parseIndex(text: string, source: string): RepositoryIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw hsuError('PACKAGE_INDEX_INVALID', `${source} is not JSON: ${(error as Error).message}`, { source }, error);
  }
  const result = repositoryIndexSchema.safeParse(data, { error: configErrorMap });
  if (result.success) return result.data;
  const issues = toConfigIssues(result.error.issues, { schema: repositoryIndexSchema, data, file: source });
  throw hsuError('PACKAGE_INDEX_INVALID', `invalid repository index ${source}:\n${formatIssues(issues).replace(/^/gm, '  ')}`, { source, issues });
}
