/**
 * The host harness, as a library: load a Flow catalog, run any connector as a black box the way
 * Flow's runtime and flowctl do (spec, discover, validate, apply, preview, check), and check every
 * byte it writes against the protocol. Imports only `protocol` and `util`, so it cannot lean on
 * flowcap's own runtime: connectors in any language get the same treatment.
 */
export {
  loadCatalog,
  selectCapture,
  bindingCollection,
  DEFAULT_INTERVAL_SECONDS,
  type Catalog,
  type CaptureDef,
  type CollectionDef,
  type BindingDef,
  type LocalEndpoint,
  type ImageEndpoint,
} from "./catalog.js";
export { CatalogError } from "./sourceFile.js";
export { parseDurationSeconds } from "./duration.js";
export { ChildProcessError } from "../process/index.js";
export { ConnectorProcess, type ExitStatus, type ConnectorProcessOptions, type ConnectorChild, type ConnectorLauncher } from "./connectorProcess.js";
export { ResponseChecker, type ResponseEvent } from "./responseChecker.js";
export { PROTOCOL_RULES, ProtocolViolationError, type RuleId } from "./rules.js";
export { decodeOpsLog, type OpsLog, type OpsLevel } from "./opsLog.js";
export {
  INTERNAL_SPEC_REQUEST,
  specRequest,
  discoverRequest,
  validateRequest,
  applyRequest,
  openRequest,
  captureSpec,
} from "./requests.js";
export { runUnary, runSpec, runDiscover, runValidate, runApply, InterruptedError, type RunOptions } from "./unary.js";
export { runPreview, type PreviewOptions, type PreviewReporter, type PreviewResult, type PreviewStats, type BindingStats, type SessionEnd } from "./preview.js";
export { DocumentValidator, DocumentInvalidError, UUID_PLACEHOLDER } from "./documents.js";
export { reduceState } from "./state.js";
export { updateCatalog, type CatalogUpdate } from "./discoverCatalog.js";
export { runChecks, selectChecks, CONFORMANCE_CHECKS, MAX_CRASH_SEED, type CheckResult, type CheckStatus, type CheckOutcome, type CheckContext, type ConformanceCheck, type CheckOptions } from "./check.js";
export { CheckSkippedError, CheckWarningError } from "./checkErrors.js";
export { DEFAULT_CRASH_TRIALS, type CrashSettings } from "./crashCheck.js";
