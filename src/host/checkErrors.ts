import { FlowcapError } from "../util/errors.js";

/**
 * How a conformance check ends other than passing or failing: throw one of these from
 * `ConformanceCheck.run` (or return `{ status, detail }`). Anything else thrown fails the check.
 */

/** The check cannot run against this connector (it needs what an earlier check did not learn): reported as skipped. */
export class CheckSkippedError extends FlowcapError {
  constructor(reason: string) {
    super("CHECK_SKIPPED", reason, { userFacing: true });
  }
}

/** The check found something that does not fail the suite: reported as a warning. */
export class CheckWarningError extends FlowcapError {
  constructor(finding: string) {
    super("CHECK_WARNING", finding, { userFacing: true });
  }
}
