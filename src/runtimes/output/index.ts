// Public face of output capture: every byte to the worker's segment files (written by GNU split
// for process workers, by the master otherwise), budgeted copies to the master log.
export { OutputCapture } from './output-capture.js';
export type { AdoptedOutput, Attached, OutputCaptureOptions, OutputStream, OutputWriter, SplitAttachment, StreamStats } from './output-capture.js';
export { DEFAULT_KEEP, DEFAULT_LOG_SETTINGS, logsSchema, resolveLogSettings } from './logs-config.js';
export type { LogSettings, LogsConfig, LogsConfigInput } from './logs-config.js';
export { LogSegments, listSegments } from './log-segments.js';
export type { LogSegmentsOptions, SegmentInfo } from './log-segments.js';
export { FileFollower } from './file-follower.js';
export type { FileFollowerOptions, FollowStart } from './file-follower.js';
export { RotatingFile } from './rotating-file.js';
export type { RotatingFileOptions, RotatingFileStats } from './rotating-file.js';
export { SplitWriter } from './split-writer.js';
export type { SplitExit, SplitWriterOptions } from './split-writer.js';
export { detectSplit } from './split-support.js';
export type { SplitSupport } from './split-support.js';
