/**
 * flowcap/testing: what connector authors use in their tests.
 */
export { startHttpFixtureServer, type HttpFixtureServer, type HttpFixtureServerOptions, type FixtureRequest, type FixtureResponse, type FixtureHandler, type RecordedRequest, type FixturePagination, type CollectionOptions, type InjectedFailure, type FixtureRateLimit, type RecordedExchange } from "./httpFixtureServer.js";
