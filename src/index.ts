/**
 * flowcap: build, wrap and test capture connectors for Estuary Flow.
 *
 * The root entry holds what a connector author needs: the SDK (`defineConnector`,
 * `defineResource`), the runtime (`serve`) and the errors. Flow's wire types live in
 * `flowcap/protocol`.
 */
export * from "./sdk/index.js";
export { serve, createLogger, parseLogLevel, DEFAULT_GRACEFUL_STOP_MS, type ServeOptions, type Connector, type ConnectorSpec, type RequestContext, type CaptureSession, type CaptureTask, type CheckpointOptions, type Logger, type LogLevel, type LogFields } from "./runtime/index.js";
export { FlowcapError, ConfigError, StoppedError, isUserFacing, type FlowcapErrorCode, type ConfigProblem } from "./util/errors.js";
export { sleep } from "./util/abort.js";
export { applyMergePatch } from "./util/mergePatch.js";
export { stateKey, PROTOCOL_VERSION } from "./protocol/index.js";
