import { CONFORMANCE_CHECKS, runChecks as runSuite, type Catalog, type CaptureDef, type CheckOptions, type CheckResult, type ConformanceCheck } from "../host/index.js";
import { oauthCheck } from "../oauth/check.js";

/**
 * The conformance suite flowcap ships, composed here because this layer may see both host and
 * oauth: host's protocol checks (CONFORMANCE_CHECKS), then the checks that live with other
 * layers' code: OAuth's lint of the spec's oauth2 block (oauth/check.ts). To add a check, write
 * it beside the code it judges and list it here, after the checks it `needs`.
 */
export function defaultChecks(): ConformanceCheck[] {
  return [...CONFORMANCE_CHECKS, oauthCheck];
}

/**
 * Runs the conformance suite against a capture's connector, whatever its language: each check
 * drives it as Flow's runtime would and judges what it writes and how it exits. The suite is
 * `defaultChecks()` unless `options.checks` says otherwise; `options.extraChecks` run after it.
 */
export function runChecks(catalog: Catalog, capture: CaptureDef, options: CheckOptions = {}): Promise<CheckResult[]> {
  return runSuite(catalog, capture, { ...options, checks: options.checks ?? defaultChecks() });
}
