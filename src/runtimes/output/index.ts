// Public face of output capture: every byte to the worker's files, budgeted copies to the master log.
export { OutputCapture } from './output-capture.js';
export type { OutputCaptureOptions, OutputStream, StreamStats } from './output-capture.js';
