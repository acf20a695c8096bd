// Public face of the dashboard: the page's files and how the control API (and `hsu dashboard`) serve them.
export { DASHBOARD_HEADERS, assetForPath, dashboardAsset, isAssetName, wantsPage } from './assets.js';
export type { Asset, AssetName } from './assets.js';
export { dashboardMiddleware } from './routes.js';
