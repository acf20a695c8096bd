/**
 * Names on the NATS side: buckets, keys and subjects of one cluster. Instance ids carry `#`, `:`,
 * `@` and `.`, which NATS keys cannot (or treat as token separators), so a key token keeps
 * [A-Za-z0-9_-] and writes any other character as `=` + its UTF-16 code in hex + `=`.
 */

export function encodeToken(text: string): string {
  return text.replace(/[^A-Za-z0-9_-]/g, (ch) => `=${ch.charCodeAt(0).toString(16)}=`);
}

export function decodeToken(token: string): string {
  return token.replace(/=([0-9a-f]{1,4})=/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

export interface ClusterNames {
  /** Bucket of instance records: key `<cluster>.<node>.<instance>`. */
  readonly registryBucket: string;
  /** Bucket of node leases: key `<node>`. */
  readonly nodesBucket: string;
  readonly instanceKey: (node: string, instanceId: string) => string;
  readonly nodeInstances: (node: string) => string;
  readonly allInstances: string;
  readonly callSubject: (node: string) => string;
  readonly cancelSubject: (node: string) => string;
}

export function clusterNames(cluster: string): ClusterNames {
  return {
    registryBucket: `hsu_${cluster}_registry`,
    nodesBucket: `hsu_${cluster}_nodes`,
    instanceKey: (node, instanceId) => `${cluster}.${node}.${encodeToken(instanceId)}`,
    nodeInstances: (node) => `${cluster}.${node}.>`,
    allInstances: `${cluster}.>`,
    callSubject: (node) => `hsu.${cluster}.call.${node}`,
    cancelSubject: (node) => `hsu.${cluster}.cancel.${node}`,
  };
}

/** `<cluster>.<node>.<instance>` → its parts, or undefined for a key of another shape. */
export function parseInstanceKey(key: string): { cluster: string; node: string; instance: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 3) return undefined;
  const [cluster, node, token] = parts as [string, string, string];
  return { cluster, node, instance: decodeToken(token) };
}

/** The id a remote instance has in a local view: `<node>/<its id on that node>`. */
export function remoteId(node: string, instanceId: string): string {
  return `${node}/${instanceId}`;
}

/** The id an instance has on its own node, from its id in a view. */
export function localIdOf(viewId: string, node: string): string {
  return viewId.startsWith(`${node}/`) ? viewId.slice(node.length + 1) : viewId;
}
