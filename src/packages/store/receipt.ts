/**
 * The receipt the store writes next to each installed version: where it came from, the archive's
 * checksum and signature, and who signed it. `verify` checks the package against it.
 */
import { readFile } from 'node:fs/promises';
import * as z from 'zod';
import { hsuError } from '../../errors.js';
import { PACKAGE_TYPES } from '../manifest/schema.js';

export const receiptSchema = z.strictObject({
  format: z.literal(1),
  name: z.string(),
  version: z.string(),
  supported_types: z.array(z.enum(PACKAGE_TYPES)),
  /** The archive as fetched, a file: or http(s): URL. */
  source: z.string(),
  sha256: z.string(),
  size: z.number(),
  signature: z.string().nullable(),
  /** The trusted key that verified the signature at install time; null when none was configured. */
  key_id: z.string().nullable(),
  entries: z.number(),
  unpacked_bytes: z.number(),
  installed_at: z.string(),
});

export type Receipt = z.output<typeof receiptSchema>;

export async function readReceipt(file: string): Promise<Receipt> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw hsuError('PACKAGE_STORE_FAILED', `cannot read the install receipt ${file}: ${(error as Error).message}`, { file }, error);
  }
  const result = receiptSchema.safeParse(data);
  if (!result.success) throw hsuError('PACKAGE_STORE_FAILED', `the install receipt ${file} is damaged: ${result.error.issues[0]?.message ?? 'invalid'}`, { file });
  return result.data;
}
