// flowcap check's crash check: SIGKILL at seeded moments, resume from committed checkpoints only,
// judge at-least-once. The Python counter (test/fixtures/connectors/python) passes; its
// deliberately broken modes fail, each for the right reason.
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resultsTable } from "../../src/cli/commands/check.js";
import { loadCatalog, runChecks, selectCapture } from "../../src/host/index.js";
import { pythonCatalog, runFlowcap, tempTree } from "../helpers/cli.js";
import { readmeExample } from "../helpers/readme.js";

/** The crash check alone (and what it needs) on the Python counter, broken or not, with a fixed seed. */
async function crash(broken: string | undefined, env: Record<string, string> = {}, trials = 4) {
  const catalog = await loadCatalog(pythonCatalog(broken, undefined, env));
  const results = await runChecks(catalog, selectCapture(catalog), { only: ["crash"], crash: { seed: 1, trials }, run: { logLevel: "warn" } });
  expect(results.map((r) => r.id)).toEqual(["validate", "session", "crash"]);
  return results.at(-1)!;
}

describe("flowcap check: the crash check", () => {
  it("passes a connector that resumes from its committed state: every kind of kill, nothing lost, state judged", async () => {
    const result = await crash(undefined);
    expect(result.status, result.detail).toBe("pass");
    const [kills, documents, state] = result.detail.split("\n");
    expect(kills).toMatch(/^4 trial\(s\) \(seed 1\), \d+ kill\(s\): /);
    for (const moment of ["mid-transaction", "between a checkpoint's documents and its state", "right after a commit", "right after opened"]) expect(kills).toContain(moment);
    expect(documents).toMatch(/^\d+ document\(s\) read but uncommitted at a kill, all committed again after resuming; no partial line counted/);
    expect(state).toBe("state never went backwards: the state of binding counter (bindingStateV1.counter)");
  }, 120_000);

  it("fails a connector that checkpoints its state before writing the documents it covers, naming the first lost document", async () => {
    // Kills land on protocol events (here, right after the 5th captured line of trial 2's second
    // session), so the same seed finds the same document on any machine.
    const result = await crash("checkpoint-before-documents");
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(
      /^acmeCo\/counter key \[5\] was lost: trial 2, session 2 wrote it at stdout line 12 and was killed before committing it \(mid-transaction, after captured #5\); the 1 session\(s\) after it committed 12 checkpoint\(s\) without it/,
    );
    expect(result.detail).toMatch(/\(seed 1, trial 2 of 4: --seed 1 --trials 2 replays it\)$/);
    // README shows this finding as flowcap check's table prints it.
    const rows = resultsTable([result]).split("\n").slice(2, 4);
    expect(
      readmeExample("crash-finding", "text")
        .trimEnd()
        .split("\n")
        .map((l) => l.replace(/^  /, "")),
    ).toEqual(rows);
  }, 120_000);

  it("fails a connector that resumes from a cursor it moved before Flow committed it", async () => {
    const cursorFile = path.join(tempTree(), "cursor");
    const result = await crash("uncommitted-cursor", { CURSOR_FILE: cursorFile });
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(
      /^acmeCo\/counter key \[\d+\] was lost: trial \d+, session \d+ wrote it at stdout line \d+ and was killed before committing it \((mid-transaction|between the documents and the state)/,
    );
  }, 120_000);

  it("fails a connector whose state goes backwards when it resumes (it ignores the state it is handed)", async () => {
    const result = await crash("ignores-state");
    expect(result.status).toBe("fail");
    expect(result.detail).toMatch(
      /^trial 1, session 2 \(resumed after session 1 was killed right after checkpoint #4 committed\), stdout line 4: committed the state of binding counter \(bindingStateV1.counter\) as \{"n":1\}, a value it had already moved past \(it opened with \{"n":4\}\): state went backwards/,
    );
  }, 120_000);

  it("passes an inclusive cursor, which re-sends its last committed document when it resumes", async () => {
    const result = await crash("inclusive-cursor", {}, 2);
    expect(result.status, result.detail).toBe("pass");
  }, 120_000);

  it("never counts a partial line: a kill that cuts a checkpoint line short leaves its transaction uncommitted, and nothing is lost", async () => {
    // The counter writes each document with the first half of its checkpoint line in one write,
    // and the rest 400 ms later: the kill mid-transaction (trial 2 of seed 1), sent as soon as
    // the document is read, lands while half a line waits in the pipe.
    const result = await crash(undefined, { SPLIT_LINES: "400" }, 2);
    expect(result.status, result.detail).toBe("pass");
    expect(result.detail).toMatch(/all committed again after resuming; no partial line counted \(\d+ kill\(s\) cut one short\)/);
  }, 120_000);

  it("runs the checks crash needs when asked for alone (--only crash), instead of skipping", async () => {
    const run = await runFlowcap(["check", "--source", "test.flow.yaml", "--only", "crash", "--trials", "1", "--seed", "3", "--json"], { timeoutMs: 110_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const results = run.json as { id: string; status: string; detail: string }[];
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ["validate", "pass"],
      ["session", "pass"],
      ["crash", "pass"],
    ]);
    expect(results[2]!.detail).toMatch(/^1 trial\(s\) \(seed 3\), [12] kill\(s\)/);
  }, 120_000);

  it.each([
    [["--session-timeout", "abc"], '--session-timeout "abc" is not a positive number of seconds (like 30, 30s or 2m)'],
    [["--session-timeout", "0"], '--session-timeout "0" is not a positive number of seconds'],
    [["--trials", "0"], '--trials "0" is not a whole number from 1 to 10000'],
    [["--trials", "2.5"], '--trials "2.5" is not a whole number from 1 to 10000'],
    [["--seed=-1"], '--seed "-1" is not a whole number from 0 to 4294967295'],
    [
      ["--only", "crash,nope"],
      '--only: no check named "nope" (the checks: spec, tolerance, discover, validate, apply, invalid-config, unknown-resource, malformed-request, session, resume, sigterm, acknowledgements, crash, oauth)',
    ],
    [["--snapshot-collections", "acmeCo/greetings,acmeCo/nope"], 'snapshot collections "acmeCo/nope": no enabled binding of acmeCo/source-hello-world writes them (its collections: acmeCo/greetings)'],
  ])("refuses %j as a usage error (exit 2), before running anything", async (args, message) => {
    const run = await runFlowcap(["check", "--source", "test.flow.yaml", ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`flowcap check: ${message}`);
    expect(run.stderr).toContain("Usage: flowcap check --source <flow.yaml>");
    expect(run.stdout).toBe("");
  });
});
