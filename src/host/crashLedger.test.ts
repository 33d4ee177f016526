import { describe, expect, it } from "vitest";
import type { CaptureSpec } from "../protocol/index.js";
import type { SessionDocument } from "./checkSession.js";
import { CrashLedger } from "./crashLedger.js";

const binding = (name: string) => ({
  resourceConfig: { name },
  resourcePath: [name],
  collection: { name: `acmeCo/${name}`, key: ["/id"], writeSchema: { type: "object" } },
  backfill: 0,
  stateKey: name,
});
const spec = { name: "acmeCo/capture", connectorType: "LOCAL", config: {}, bindings: [binding("events"), binding("catalog")] } as unknown as CaptureSpec;

const doc = (id: number, lineNumber = id + 2, collection = "acmeCo/events"): SessionDocument => ({
  collection,
  key: JSON.stringify([id]),
  binding: collection === "acmeCo/events" ? 0 : 1,
  lineNumber,
});
const state = (events: unknown, extra: Record<string, unknown> = {}) => ({ bindingStateV1: events === undefined ? {} : { events }, ...extra });

/** A ledger over one trial: `sessions` are lists of commits, each ending with the documents it left uncommitted. */
function trial(ledger: CrashLedger, sessions: { commits: { state: Record<string, unknown>; docs?: SessionDocument[] }[]; uncommitted?: SessionDocument[] }[]) {
  ledger.beginTrial(1);
  let current: Record<string, unknown> = {};
  for (const [i, session] of sessions.entries()) {
    ledger.beginSession(current, i ? "was killed mid-transaction, after captured #2" : "");
    for (const [n, c] of session.commits.entries()) {
      ledger.commit({ ordinal: n + 1, lineNumber: 10 * (i + 1) + n, documents: c.docs ?? [], state: c.state });
      current = c.state;
    }
    ledger.endSession(session.uncommitted ?? [], "mid-transaction, after captured #2");
  }
  return ledger.endTrial((s) => `the ${sessions.length - s} session(s) after it committed no checkpoint with it`);
}

describe("the crash ledger: what is lost", () => {
  it("repays a document read but not committed before a kill once a later session commits its key, in any version", () => {
    const ledger = new CrashLedger(spec);
    const findings = trial(ledger, [{ commits: [{ state: state({ n: 1 }), docs: [doc(1)] }], uncommitted: [doc(2)] }, { commits: [{ state: state({ n: 2 }), docs: [{ ...doc(2), lineNumber: 4 }] }] }]);
    expect(findings).toEqual([]);
    expect(ledger.totals).toEqual({ owed: 1, repaid: 1, notJudged: 0 });
  });

  it("names the first document no later session committed, and counts the others", () => {
    const findings = trial(new CrashLedger(spec), [
      { commits: [{ state: state({ n: 1 }), docs: [doc(1)] }], uncommitted: [doc(2, 7), doc(3, 8)] },
      { commits: [{ state: state({ n: 4 }), docs: [doc(4)] }] },
    ]);
    expect(findings).toEqual([
      {
        kind: "lost",
        message:
          "acmeCo/events key [2] was lost (and 1 more document(s) like it): trial 1, session 1 wrote it at stdout line 7 and was killed before committing it (mid-transaction, after captured #2); the 1 session(s) after it committed no checkpoint with it",
      },
    ]);
  });

  it("owes a later version of a key the killed session had committed before: it too must be committed again", () => {
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: state({ n: 1 }), docs: [doc(1)] }], uncommitted: [doc(1, 9)] }, { commits: [{ state: state({ n: 2 }), docs: [doc(2)] }] }]);
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/^acmeCo\/events key \[1\] was lost: trial 1, session 1 wrote it at stdout line 9 /)]);
  });

  it("is repaid by a killed session too, if it committed the key before its own kill", () => {
    const findings = trial(new CrashLedger(spec), [
      { commits: [{ state: state({ n: 1 }), docs: [doc(1)] }], uncommitted: [doc(2)] },
      { commits: [{ state: state({ n: 2 }), docs: [doc(2)] }], uncommitted: [doc(3)] },
      { commits: [{ state: state({ n: 3 }), docs: [doc(3)] }] },
    ]);
    expect(findings).toEqual([]);
  });

  it("does not judge the documents of snapshot collections (a key the source no longer has may have been deleted)", () => {
    const ledger = new CrashLedger(spec, new Set(["acmeCo/catalog"]));
    const findings = trial(ledger, [{ commits: [{ state: state({ n: 1 }) }], uncommitted: [doc(5, 3, "acmeCo/catalog")] }, { commits: [{ state: state({ n: 2 }) }] }]);
    expect(findings).toEqual([]);
    expect(ledger.totals).toEqual({ owed: 0, repaid: 0, notJudged: 1 });
  });
});

describe("the crash ledger: what goes backwards", () => {
  const backwards = (findings: { kind: string; message: string }[]) => findings.filter((f) => f.kind === "backwards").map((f) => f.message);

  it("fails a resumed session that commits a state the trial had already moved past", () => {
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: state({ n: 1 }) }, { state: state({ n: 2 }) }, { state: state({ n: 3 }) }] }, { commits: [{ state: state({ n: 1 }) }] }]);
    expect(backwards(findings)).toEqual([
      'trial 1, session 2 (resumed after session 1 was killed mid-transaction, after captured #2), stdout line 20: committed the state of binding events (bindingStateV1.events) as {"n":1}, a value it had already moved past (it opened with {"n":3}): state went backwards',
    ]);
  });

  it("fails a resumed session whose state drops a binding's state that was committed before (state lost)", () => {
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: state({ n: 1 }) }, { state: state({ n: 2 }) }] }, { commits: [{ state: state(undefined) }] }]);
    expect(backwards(findings)).toEqual([
      expect.stringContaining("committed a state without the state of binding events (bindingStateV1.events), which the trial had committed before: state was lost"),
    ]);
  });

  it("passes an inclusive cursor: re-committing the state the session opened with is not going back", () => {
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: state({ n: 1 }) }, { state: state({ n: 2 }) }] }, { commits: [{ state: state({ n: 2 }) }, { state: state({ n: 3 }) }] }]);
    expect(findings).toEqual([]);
  });

  it("fails a single increasing field (a number or an RFC 3339 timestamp) that the resumed session moves below where it opened", () => {
    const at = (t: string) => state({ cursor: t, page: 1 });
    const findings = trial(new CrashLedger(spec), [
      { commits: [{ state: at("2024-01-01T00:00:01Z") }, { state: at("2024-01-01T00:00:02Z") }, { state: at("2024-01-01T00:00:03Z") }] },
      { commits: [{ state: at("2024-01-01T00:00:02.500Z") }] },
    ]);
    expect(backwards(findings)).toEqual([
      expect.stringContaining('committed the state of binding events (bindingStateV1.events) with /cursor "2024-01-01T00:00:02.500Z", below the "2024-01-01T00:00:03Z" the session opened with'),
    ]);
  });

  it("does not judge the order of a cursor of several changing fields (an (updated_at, id) pair)", () => {
    const at = (updated: number, id: number) => state({ updated, id });
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: at(1, 5) }, { state: at(2, 9) }] }, { commits: [{ state: at(3, 1) }] }]);
    expect(findings).toEqual([]);
  });

  it("does not judge a state seen to come back to an earlier value within one session (a backfill that starts over)", () => {
    const ledger = new CrashLedger(spec);
    ledger.beginTrial(0, false);
    ledger.beginSession({});
    for (const [i, page] of [1, 2, 1, 2].entries()) ledger.commit({ ordinal: i + 1, lineNumber: i + 3, documents: [], state: state({ page }) });
    const findings = trial(ledger, [{ commits: [{ state: state({ page: 1 }) }, { state: state({ page: 2 }) }] }, { commits: [{ state: state({ page: 1 }) }] }]);
    expect(findings).toEqual([]);
    expect(ledger.judgedParts.map((p) => p.label)).toEqual([]);
  });

  it("does not judge the state of a snapshot collection's binding", () => {
    const catalog = (page: number) => ({ bindingStateV1: { catalog: { page } } });
    const findings = trial(new CrashLedger(spec, new Set(["acmeCo/catalog"])), [{ commits: [{ state: catalog(1) }, { state: catalog(2) }] }, { commits: [{ state: catalog(1) }] }]);
    expect(findings).toEqual([]);
  });

  it("does not judge a return to a value of names and flags only: a phase (Singer's currently_syncing), not a position", () => {
    const syncing = (stream: string | null) => ({ singer: { rest: JSON.stringify({ currently_syncing: stream }) } });
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: syncing("orders") }, { state: syncing("products") }, { state: syncing(null) }] }, { commits: [{ state: syncing("orders") }] }]);
    expect(findings).toEqual([]);
  });

  it("judges the state outside bindingStateV1 as one more part", () => {
    const findings = trial(new CrashLedger(spec), [{ commits: [{ state: { offset: 1 } }, { state: { offset: 2 } }] }, { commits: [{ state: { offset: 1 } }] }]);
    expect(backwards(findings)).toEqual([expect.stringContaining('committed the state outside bindingStateV1 as {"offset":1}, a value it had already moved past')]);
  });
});
