/**
 * "Did you mean": the valid key closest to an unknown one, when it is close enough to be a typo
 * (`restrt`, `stop_timout`, `stopTimeout`, `stop-timeout`) rather than another word. Spelling is
 * compared without case, `-` or `_`; then by edit distance (fastest-levenshtein), at most one edit
 * per four characters of the key (at least one), two swapped neighbours counting as one edit.
 */
import { distance } from 'fastest-levenshtein';

const normal = (key: string): string => key.toLowerCase().replace(/[-_]/g, '');

export function closestKey(unknown: string, valid: readonly string[]): string | undefined {
  const wanted = normal(unknown);
  const same = valid.find((key) => normal(key) === wanted);
  if (same !== undefined) return same;
  const allowed = Math.max(1, Math.floor(wanted.length / 4));
  let best: { key: string; edits: number } | undefined;
  for (const key of valid) {
    const candidate = normal(key);
    const edits = swappedNeighbours(wanted, candidate) ? 1 : distance(wanted, candidate);
    if (edits <= allowed && (best === undefined || edits < best.edits)) best = { key, edits };
  }
  return best?.key;
}

/** `tpye` for `type`: the same letters with one pair of neighbours swapped (Levenshtein counts two edits). */
function swappedNeighbours(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const differ: number[] = [];
  for (let i = 0; i < a.length && differ.length <= 2; i++) if (a[i] !== b[i]) differ.push(i);
  const [i, j] = differ;
  return differ.length === 2 && j === i! + 1 && a[i!] === b[j] && a[j] === b[i!];
}
