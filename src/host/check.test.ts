import { describe, expect, it } from "vitest";
import { FlowcapError } from "../util/errors.js";
import { CONFORMANCE_CHECKS, selectChecks } from "./check.js";

const ids = (only?: string[]) => selectChecks(CONFORMANCE_CHECKS, only).map((c) => c.id);

describe("selecting checks", () => {
  it("runs every check by default, in suite order", () => {
    expect(ids()).toEqual(CONFORMANCE_CHECKS.map((c) => c.id));
  });

  it("adds what a check needs, transitively, in suite order: crash needs session, which needs validate", () => {
    expect(ids(["crash"])).toEqual(["validate", "session", "crash"]);
    expect(ids(["resume", "spec"])).toEqual(["spec", "validate", "session", "resume"]);
    expect(ids(["unknown-resource"])).toEqual(["spec", "unknown-resource"]);
  });

  it("refuses an unknown id, naming the known ones", () => {
    expect(() => ids(["crash", "nope"])).toThrow(FlowcapError);
    expect(() => ids(["nope"])).toThrow(/^no check named "nope" \(the checks: spec, tolerance, discover, .*, crash\)$/);
  });

  it("declares needs only on checks that exist", () => {
    const known = new Set(CONFORMANCE_CHECKS.map((c) => c.id));
    for (const check of CONFORMANCE_CHECKS) for (const need of check.needs ?? []) expect(known.has(need), `${check.id} needs ${need}`).toBe(true);
  });
});
