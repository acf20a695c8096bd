// Public face of watch mode (`hsu run --watch`): each worker restarted alone when its own files change.
export { WatchMode } from './watch-mode.js';
export type { WatchModeOptions } from './watch-mode.js';
export { watchTargetOf, nodeScriptFiles } from './targets.js';
export type { WatchTarget, TargetContext } from './targets.js';
export { localImportGraph } from './import-graph.js';
export { watchSchema, watchBlockSchema, DEFAULT_WATCH_DELAY_MS } from './schema.js';
export type { WatchBlock, WatchSetting } from './schema.js';
export { SETTLE_MS } from './self-writes.js';
