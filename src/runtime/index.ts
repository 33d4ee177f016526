/**
 * The runtime: serves any `Connector` on stdio by Flow's rules (request loop and lifecycle,
 * single stdout writer with backpressure, checkpoint/acknowledgement ledger, JSON logs, and the
 * mapping from errors to the last log line and the exit code).
 */
export { serve, DEFAULT_GRACEFUL_STOP_MS, type ServeOptions } from "./serve.js";
export type { Connector, ConnectorSpec, RequestContext, OpenedCapture, CaptureSession } from "./connector.js";
export type { CaptureTask, CheckpointOptions } from "./task.js";
export { createLogger, RawJson, type Logger, type LogLevel, type LogFields, type LoggerOptions } from "./log.js";
export { logFatal } from "./fatal.js";
