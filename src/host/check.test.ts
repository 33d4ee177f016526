import { describe, expect, it } from "vitest";
import { FlowcapError } from "../util/errors.js";
import { CONFORMANCE_CHECKS, selectChecks, type ConformanceCheck } from "./check.js";

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

  it("refuses a list that is not a suite: two checks of one id, or a check before what it needs", () => {
    const check = (id: string, needs?: string[]): ConformanceCheck => ({ id, title: id, ...(needs ? { needs } : {}), run: async () => "ok" });
    expect(() => selectChecks([...CONFORMANCE_CHECKS, check("spec")])).toThrow(/two checks have the id "spec"/);
    expect(() => selectChecks([check("late", ["mine"]), check("mine")])).toThrow(/the check "late" needs "mine", which runs after it: put it earlier/);
    expect(() => selectChecks([check("mine", ["nowhere"])], ["mine"])).toThrow(/needs "nowhere", which is not in the suite/);
    expect(selectChecks([...CONFORMANCE_CHECKS, check("mine", ["session"])], ["mine"]).map((c) => c.id)).toEqual(["validate", "session", "mine"]);
  });
});
