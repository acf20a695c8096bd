/**
 * Which instance a failed call ran on, carried beside the error (not in it: errors may be frozen,
 * or come from another realm) so that a retry can go elsewhere. Written only on the failure path.
 */
const failedOn = new WeakMap<object, string>();

export function noteFailedInstance(error: unknown, instanceId: string): void {
  if (typeof error === 'object' && error !== null) failedOn.set(error, instanceId);
}

export function failedInstanceOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? failedOn.get(error) : undefined;
}
