// Public face of autoscaling: the decision engine, the loop that drives it, the `autoscale:` schema.
export { Autoscaler, type AutoscaleSample, type AutoscalerOptions, type ScaleAction, type ScaleDecision } from './autoscaler.js';
export { AutoscaleLoop, type AutoscaleLoopOptions } from './loop.js';
export { AUTOSCALE_METRICS, MAX_REPLICAS, autoscaleSchema, type AutoscaleConfig, type AutoscaleConfigInput, type AutoscaleMetric } from './schema.js';
