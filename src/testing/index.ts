/**
 * The testing kit for connector authors (`flowcap/testing`): run a connector in-process or as a
 * process for N transactions from a given state, and compare its spec, discovered bindings and
 * captured documents with checked-in snapshots in flowctl's format (`UPDATE_SNAPSHOTS=1`
 * rewrites them).
 */
export {
  createConnectorHarness,
  type ConnectorHarness,
  type ConnectorUnderTest,
  type HarnessOptions,
  type HarnessBinding,
  type HarnessCaptureOptions,
  type HarnessCaptureResult,
  type HarnessCaptureProgress,
} from "./harness.js";
export { inProcessLauncher } from "./inProcess.js";
export { matchSnapshot, redactSecrets, UPDATE_SNAPSHOTS_ENV, type MatchSnapshotOptions } from "./snapshots.js";
export { UUID_PLACEHOLDER } from "../host/index.js";
export { startHttpFixtureServer, type HttpFixtureServer, type HttpFixtureServerOptions, type FixtureRequest, type FixtureResponse, type FixtureHandler, type RecordedRequest, type FixturePagination, type CollectionOptions, type InjectedFailure, type FixtureRateLimit, type RecordedExchange } from "./httpFixtureServer.js";
