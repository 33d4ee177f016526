/**
 * `flowcap/testing`: the testing kit for connector authors. Run a connector in-process or as a
 * process for N transactions from a given state, compare its spec, discovered bindings and
 * captured documents with checked-in snapshots in flowctl's format (`UPDATE_SNAPSHOTS=1`
 * rewrites them), and serve a fake HTTP API from fixtures.
 */
export {
  createConnectorHarness,
  inProcessLauncher,
  matchSnapshot,
  redactSecrets,
  UPDATE_SNAPSHOTS_ENV,
  UUID_PLACEHOLDER,
  startHttpFixtureServer,
  type ConnectorHarness,
  type ConnectorUnderTest,
  type HarnessOptions,
  type HarnessBinding,
  type HarnessCaptureOptions,
  type HarnessCaptureResult,
  type HarnessCaptureProgress,
  type MatchSnapshotOptions,
  type HttpFixtureServer,
  type HttpFixtureServerOptions,
  type FixtureRequest,
  type FixtureResponse,
  type FixtureHandler,
  type RecordedRequest,
  type FixturePagination,
  type CollectionOptions,
  type InjectedFailure,
  type FixtureRateLimit,
  type RecordedExchange,
} from "../testing/index.js";
export { defaultChecks } from "../testing/conformance.js";
