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
export { CatalogError, SourceFile } from "./sourceFile.js";
export { parseDurationSeconds } from "./duration.js";
export { ConnectorProcess, ConnectorFailedError, type ExitStatus, type ConnectorProcessOptions, type ConnectorChild, type ConnectorLauncher } from "./connectorProcess.js";
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
  openRequestJson,
  captureSpec,
  collectionSpec,
  enabledBindings,
  buildVersion,
} from "./requests.js";
export { runUnary, runSpec, runDiscover, runValidate, runApply, localEndpoint, InterruptedError, type RunOptions } from "./unary.js";
export { runPreview, type PreviewOptions, type PreviewReporter, type PreviewResult, type PreviewStats, type BindingStats, type SessionEnd } from "./preview.js";
export { DocumentValidator, DocumentInvalidError, UUID_PLACEHOLDER } from "./documents.js";
export { reduceState } from "./state.js";
export {
  parseFlowJson,
  stringifyFlowJson,
  toFlowValue,
  toPlainJson,
  flowNumber,
  formatF64,
  FlowNumber,
  applyFlowMergePatch,
  composeFlowMergePatches,
  compareFlowValues,
  type FlowValue,
  type FlowObject,
} from "./flowJson.js";
export { TransactionCombiner, reduceDocument, type CombinedDocument } from "./combine.js";
export { LocalEncryptionService } from "./encryptionService.js";
export { decryptSops, isSopsEncrypted } from "./sops.js";
export { updateCatalog, resourcePathOf, type CatalogUpdate } from "./discoverCatalog.js";
export { runChecks, selectChecks, CONFORMANCE_CHECKS, MAX_CRASH_SEED, invalidConfig, type CheckResult, type CheckStatus, type CheckOutcome, type CheckContext, type ConformanceCheck, type CheckOptions } from "./check.js";
export { CheckSkippedError, CheckWarningError } from "./checkErrors.js";
export { DEFAULT_CRASH_TRIALS, type CrashSettings } from "./crashCheck.js";
export { planTrials, describeKill, type KillMoment, type TrialPlan } from "./crashPlan.js";
