import { describe, expect, it } from "vitest";
import { runChecks as runPublicChecks } from "flowcap/host";
import { loadCatalog, runChecks, selectCapture } from "../../src/host/index.js";
import { pythonCatalog, runFlowcap, sdkAcksCatalog } from "../helpers/cli.js";

async function check(broken: string | undefined, only: string[]) {
  const catalog = await loadCatalog(pythonCatalog(broken));
  return runChecks(catalog, selectCapture(catalog), { only, stopGraceMs: 1500, sessionTimeoutMs: 5000, run: { logLevel: "warn" } });
}

describe("flowcap check", () => {
  it("passes on hello-world, with a pass/fail table and exit 0", async () => {
    const run = await runFlowcap(["check", "--source", "test.flow.yaml"], { timeoutMs: 170_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const id of ["spec", "tolerance", "discover", "validate", "apply", "invalid-config", "unknown-resource", "malformed-request", "session", "resume", "sigterm", "crash"]) {
      expect(run.stdout).toMatch(new RegExp(`^${id}\\s+PASS\\s`, "m"));
    }
    expect(run.stdout).toMatch(/^acknowledgements\s+SKIP\s/m);
    expect(run.stdout).toMatch(/^oauth\s+SKIP\s+.*: the spec has no oauth2 block/m);
    expect(run.stdout).toMatch(/12 passed, 0 failed, 0 warned, 2 skipped/);
    // The crash check's seed is drawn at random and reported, so a finding can be replayed.
    expect(run.stdout).toMatch(/^crash\s+PASS\s+.*: 4 trial\(s\) \(seed \d+\), \d+ kill\(s\)/m);
  }, 180_000);

  it("passes on a connector written in Python without flowcap", async () => {
    const run = await runFlowcap(["check", "--source", pythonCatalog(), "--json"], { timeoutMs: 170_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const results = run.json as { id: string; status: string }[];
    expect(results.filter((r) => r.status === "fail")).toEqual([]);
    expect(results.filter((r) => r.status === "pass").map((r) => r.id)).toEqual(expect.arrayContaining(["resume", "crash"]));
  }, 180_000);

  it("passes an SDK connector that asks for acknowledgements, acknowledging every session's checkpoints", async () => {
    const run = await runFlowcap(["check", "--source", sdkAcksCatalog(), "--json", "--session-timeout", "5"], { timeoutMs: 170_000 });
    const results = run.json as { id: string; status: string; detail: string }[];
    expect(results.filter((r) => r.status === "fail" || r.status === "warn")).toEqual([]);
    const byId = new Map(results.map((r) => [r.id, r]));
    expect(byId.get("acknowledgements")).toMatchObject({ status: "pass", detail: "3 checkpoint(s), each acknowledged" });
    // Each checkpoint waits for its acknowledge: two in the first session means the check sent one.
    expect(byId.get("session")!.detail).toMatch(/^2 checkpoint\(s\), 2 document\(s\), exit 0 at stdin EOF/);
    expect(byId.get("resume")!.status).toBe("pass");
    expect(byId.get("crash")!.status).toBe("pass");
    expect(run.code).toBe(0);
  }, 180_000);

  it("fails a connector whose oauth2 block puts the client secret in a URL (the oauth lint, as part of check)", async () => {
    const run = await runFlowcap(["check", "--source", pythonCatalog("oauth-lint"), "--only", "spec,oauth"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^oauth\s+FAIL\s+its oauth2 block and credentials schema lint clean: \d+ error\(s\):/m);
    expect(run.stdout).toMatch(/error \[secret-in-url\] oauth2\.accessTokenUrlTemplate: /);
  });

  it("runs the OAuth check for library users too: flowcap/host's runChecks runs defaultChecks()", async () => {
    const catalog = await loadCatalog(pythonCatalog("oauth-lint"));
    const results = await runPublicChecks(catalog, selectCapture(catalog), { only: ["oauth"], run: { logLevel: "warn" } });
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["spec", "pass"],
      ["oauth", "fail"],
    ]);
    expect(results[1]!.detail).toMatch(/error \[secret-in-url\] oauth2\.accessTokenUrlTemplate: /);
  });

  it("lets the resources of collections named as snapshots repeat their documents when resuming", async () => {
    const catalog = await loadCatalog(pythonCatalog("ignores-state"));
    const results = await runChecks(catalog, selectCapture(catalog), { only: ["spec", "validate", "session", "resume"], snapshotCollections: ["acmeCo/counter"], stopGraceMs: 1500, sessionTimeoutMs: 5000 });
    expect(results.find((r) => r.id === "resume")).toMatchObject({ status: "pass", detail: expect.stringMatching(/1 repeated from the first session$/) });
  });

  it("passes a connector whose cursor is inclusive: re-sending the last committed document on resume is at-least-once, not ignoring state", async () => {
    const catalog = await loadCatalog(pythonCatalog("inclusive-cursor"));
    const results = await runChecks(catalog, selectCapture(catalog), { only: ["spec", "validate", "session", "resume"], stopGraceMs: 1500, sessionTimeoutMs: 5000 });
    expect(results.find((r) => r.id === "resume")).toMatchObject({ status: "pass", detail: expect.stringMatching(/1 repeated from the first session$/) });
  });

  // Each deliberate breakage of the Python connector must fail the right check, for the right rule.
  it.each([
    ["json-line", "session", /protocol violation \[json-line\]: stdout line \d+: not JSON/],
    ["one-variant", "session", /\[one-variant\]: stdout line \d+: 2 variants in one line \(captured, checkpoint\)/],
    ["known-fields", "spec", /\[known-fields\]: stdout line 1: spec.extraField is not a field Flow knows/],
    ["no-nulls", "spec", /\[no-nulls\]: stdout line 1: spec.oauth2 is null/],
    ["field-types", "session", /\[field-types\]: stdout line \d+: captured.binding: must be integer/],
    ["protocol-version", "spec", /\[protocol-version\]: stdout line 1: spec.protocol is 1234/],
    ["expected-response", "validate", /\[expected-response\]: stdout line 2: a applied response to a validate request \(expected validated\)/],
    ["validated-bindings", "validate", /\[validated-bindings\]: stdout line 2: 0 validated binding\(s\) for 1 requested/],
    ["opened-first", "session", /\[opened-first\]: stdout line 2: the session's first response is captured, not opened/],
    ["session-messages", "session", /\[session-messages\]: stdout line \d+: a spec response during a capture session/],
    ["checkpoint-state", "session", /\[checkpoint-state\]: stdout line \d+: checkpoint.state.updated is missing/],
    ["binding-index", "session", /\[binding-index\]: stdout line 3: captured.binding is 5, but the capture has 1 binding\(s\)/],
    ["document-object", "session", /\[document-object\]: stdout line 3: captured.doc is a array/],
    ["sourced-schema-closed", "session", /\[sourced-schema-closed\]: stdout line 3: documentSchema has properties but does not set additionalProperties: false/],
    ["eof-in-sequence", "session", /\[eof-in-sequence\]: stdout ended after 1 captured\/sourcedSchema message\(s\) with no checkpoint after them/],
    ["partial-line", "spec", /\[partial-line\]: stdout line 1: stdout ended with a line that has no newline/],
    ["exit-status", "spec", /\[exit-status\]: answered, but did not exit within 1.5s of its stdin closing/],
    ["stops-at-eof", "session", /\[stops-at-eof\]: still running 1.5s after its stdin closed/],
    ["acknowledgements", "acknowledgements", /\[acknowledgements\]: its 3 checkpoint\(s\) were acknowledged, but it did not exit within 1.5s of its stdin closing: it is not reading its input/],
    ["doc-schema", "session", /stdout line 3, binding 0 \(acmeCo\/counter\): document does not match the schema of acmeCo\/counter: \/n must be integer/],
    ["unreadable-error", "invalid-config", /the connector's error is a stack trace, not a readable message \(it ends: "KeyError: 'greeting'"\)/],
    ["accepts-unknown-resource", "unknown-resource", /validated the resource \{"name":"flowcap-no-such-resource"\}, which does not exist; it must refuse it/],
    ["crash", "session", /connector exited with status 1: the counter service went away/],
    ["spec-varies", "spec", /the spec for config \{\} \(the runtime's internal spec\) differs from the spec for the capture's config/],
    ["refuses-unknown-keys", "tolerance", /connector exited with status 1: request line 1 has unknown fields: \$internal/],
    ["key-not-pointer", "discover", /bindings\[0\] \(counter\): key must be a non-empty list of JSON pointers/],
    ["resource-schema-refuses-meta", "discover", /bindings\[0\] \(counter\): spec.resourceConfigSchema refuses the _meta that Flow's control plane stores in resource configs/],
    ["accepts-malformed-request", "malformed-request", /a malformed request line: the connector exited 0; it must fail/],
    ["missing-key", "session", /stdout line 3, binding 0 \(acmeCo\/counter\): document has no value at key \/n of acmeCo\/counter/],
    ["ignores-state", "resume", /its first document \(acmeCo\/counter key \[1\]\) is the first one the first session committed: it ignores the state it is handed/],
  ])("BROKEN=%s fails the %s check", async (broken, id, message) => {
    const needs = ["spec", "validate", ...(id === "resume" ? ["session"] : []), id];
    const results = await check(broken, [...new Set(needs)]);
    const result = results.find((r) => r.id === id)!;
    expect(result.status, result.detail).toBe("fail");
    expect(result.detail).toMatch(message);
  });
});
