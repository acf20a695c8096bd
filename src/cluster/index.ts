/**
 * Public face of the cluster: masters on several hosts joined through NATS with JetStream. The
 * schema can be imported freely; everything that talks to NATS loads its client on first use, so
 * nothing NATS-related is loaded without a `cluster:` block.
 */
export { Cluster, isNotableClusterEvent, type ClusterDeps, type ClusterEvent } from './cluster.js';
export { clusterSchema, clusterTlsSchema, parseClusterConfig, defaultNodeName, type ClusterConfig, type ClusterConfigInput } from './config.js';
export { ClusterRegistry, type ClusterRegistryOptions } from './registry/cluster-registry.js';
export { RemoteInvoker, type RemoteInvokerOptions, type TraceHeaders } from './calls/remote-invoker.js';
export { CallResponder, type CallResponderOptions, type LocalCall, type WithTrace } from './calls/responder.js';
export { ClusterConnection, type ConnectionEvent, type ConnectionState } from './connection.js';
export { buildClusterView, type ClusterView, type ClusterViewNode, type ClusterViewInstance } from './view.js';
export { CLUSTER_ERROR_CODES } from './error-codes.js';
