// `flowcap preview` gives the results `flowctl preview` gives on the same connector. Each test pins
// one behaviour of flowctl's, read from the public estuary/flow repository:
//
//   [MOD]      crates/flowctl/src/preview/mod.rs @0f30d2c4245b5cd952989da2728068ce70609703
//              (its flags, and how it prints documents and states)
//   [HARNESS]  crates/runtime/src/harness/capture.rs @cc00f8f53e31a2a9cc37fc05d4847a1c07560dbe
//              (run_session: apply then open per session, the delay before every poll, the
//              idle deadline reset after each transaction)
//   [SERVE]    crates/runtime/src/capture/serve.rs @16fd25d72c0cc45561eb088d7d83498bdf8ad368
//              (the acknowledgement goes out at the next poll; a poll with nothing read returns
//              at the next checkpoint)
//   [PROTOCOL] crates/runtime/src/capture/protocol.rs @0797b2af2c316331aa4f6d186cba1f2326ef1d4e
//              (documents combined by key in one transaction; its checkpoints' states reduced into
//              one merge patch; serialization of documents and states)
//   [LOCATE]   crates/doc/src/shape/location.rs (via crates/validation/src/collection.rs
//              @2c88f15d1887996be1ecba57a2e8ad40f30c22d3): key locations must exist
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { captured, checkpoint, FLOWCAP, pythonCatalog, runFlowcap, scriptedCatalog } from "../helpers/cli.js";

const lines = (stdout: string) => stdout.split("\n").filter(Boolean);
const page = (ids: number[], cursor: number) => [...ids.map((id) => captured({ id })), checkpoint({ cursor })];

describe("flowcap preview, as flowctl preview", () => {
  it("sleeps --delay before every poll, the first included, folding all pages read meanwhile into one transaction [HARNESS send_poll]", async () => {
    // A paginated source: 7 documents in pages of 3, 3 and 1, each page checkpointed.
    const session = [...page([1, 2, 3], 1), { sleep_ms: 100 }, ...page([4, 5, 6], 2), { sleep_ms: 100 }, ...page([7], 3)];
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session }), "--sessions", "1", "--delay", "5s", "--output-state"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).filter((l) => l.startsWith('["acmeCo/things"'))).toHaveLength(7);
    // One transaction (one state line), then the final state.
    expect(lines(run.stdout).filter((l) => l.startsWith('["connectorState"'))).toEqual(['["connectorState",{"updated":{"cursor":3},"mergePatch":true}]', '["connectorState",{"updated":{"cursor":3}}]']);
  });

  it("takes --timeout as the idle limit of a session, reset after each transaction [HARNESS deadline]", async () => {
    // Pages 3 s apart: 6 s in all, but never 5 s without one. (--timeout also bounds validate
    // and apply, which take a Python process a second or two to answer on a loaded machine.)
    const session = [...page([1], 1), { sleep_ms: 3000 }, ...page([2], 2), { sleep_ms: 3000 }, ...page([3], 3)];
    const started = Date.now();
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session }), "--timeout", "5s"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((l) => (JSON.parse(l) as [string, { id: number }])[1].id)).toEqual([1, 2, 3]);
    expect(run.stderr).toMatch(/session 1: nothing to commit for 5s \(--timeout\), so it was ended/);
    expect(Date.now() - started).toBeLessThan(45_000);
  });

  it("ends the session, not the preview, at --timeout: the next session opens [HARNESS run_capture]", async () => {
    const session = page([1], 1);
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session, action: "applied" }), "--sessions", "-1,1", "--timeout", "5s", "--output-apply"]);
    expect(run.code, run.stderr).toBe(0);
    // Apply runs before each session's open, and flowctl prints its description each time, with its space.
    expect(lines(run.stdout).filter((l) => l.startsWith('["applied'))).toEqual(['["applied.actionDescription", "applied"]', '["applied.actionDescription", "applied"]']);
    expect(lines(run.stdout).filter((l) => l.startsWith('["acmeCo/things"'))).toHaveLength(2);
  });

  it("bounds validate, apply and open with --timeout, naming the request", async () => {
    for (const request of ["validate", "apply", "open"]) {
      const started = Date.now();
      const run = await runFlowcap(["preview", "--source", scriptedCatalog({ hang: request }), "--timeout", "5s"], { timeoutMs: 60_000 });
      expect(run.code, `${request}: ${run.stderr}`).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`flowcap: the connector did not answer the ${request} request within 5s \\(--timeout 5s\\)`));
      expect(Date.now() - started).toBeLessThan(45_000);
    }
  }, 180_000);

  it("stops at the first Ctrl-C while the connector holds validate, exiting 130", async () => {
    const child = spawn(process.execPath, [FLOWCAP, "preview", "--source", scriptedCatalog({ hang: "validate" })], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve) =>
      child.stderr.on("data", (c: Buffer) => {
        stderr += c;
        if (stderr.includes("got validate")) resolve();
      }),
    );
    const interruptedAt = Date.now();
    process.kill(-child.pid!, "SIGINT");
    expect(await exited, stderr).toBe(130);
    expect(stderr).toMatch(/flowcap: interrupted while the connector was answering the validate request/);
    expect(Date.now() - interruptedAt).toBeLessThan(20_000);
  });

  it("prints documents and states byte for byte as flowctl: Flow's JSON, integers beyond 2^53 digit for digit [MOD print!, PROTOCOL SerPolicy]", async () => {
    const doc = '{"id":12345678901234567890,"neg":-9223372036854775808,"f":1.0,"e":1e21,"small":0.000001,"b":1,"10":"ten","nested":{"z":1,"a":[2.50,{"y":null}]},"s":"é\\u0001"}';
    const schema = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };
    const session = [captured(doc), checkpoint('{"bindingStateV1":{"things":{"lsn":18446744073709551615,"at":1.0}}}')];
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session }, { schema }), "--sessions", "1", "--output-state"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toEqual([
      '["acmeCo/things",{"10":"ten","_meta":{"uuid":"DocUUIDPlaceholder-329Bb50aa48EAa9ef"},"b":1,"e":1e21,"f":1.0,"id":12345678901234567890,"neg":-9223372036854775808,"nested":{"a":[2.5,{"y":null}],"z":1},"s":"é\\u0001","small":1e-6}]',
      '["connectorState",{"updated":{"bindingStateV1":{"things":{"at":1.0,"lsn":18446744073709551615}}},"mergePatch":true}]',
      '["connectorState",{"updated":{"bindingStateV1":{"things":{"at":1.0,"lsn":18446744073709551615}}}}]',
    ]);
  });

  it("combines a transaction's documents by key and prints them in key order, with one state patch composed of its checkpoints [PROTOCOL recv_connector_captured, recv_connector_checkpoint]", async () => {
    const session = [
      captured({ id: 3, v: "c" }),
      captured({ id: 1, v: "a" }),
      checkpoint({ cursor: 1, tmp: null }),
      captured({ id: 2, v: "b" }),
      captured({ id: 1, v: "a2" }),
      checkpoint({ cursor: 1 }),
    ];
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session }), "--sessions", "1", "--delay", "3s", "--output-state"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).map((l) => l.replace(/"_meta":\{[^}]*\},/, ""))).toEqual([
      '["acmeCo/things",{"id":1,"v":"a2"}]',
      '["acmeCo/things",{"id":2,"v":"b"}]',
      '["acmeCo/things",{"id":3,"v":"c"}]',
      // The null stays (it must still delete from the state the patch applies to), and re-setting
      // a value to what it was is still in the patch.
      '["connectorState",{"updated":{"cursor":1,"tmp":null},"mergePatch":true}]',
      '["connectorState",{"updated":{"cursor":1}}]',
    ]);
    expect(run.stderr).toMatch(/things\s+acmeCo\/things\s+3 \(4 written\)/);
  });

  it("parses --sessions -1,-1 as flowctl does (clap, value_delimiter) [MOD sessions]", async () => {
    const session = [...page([1], 1)];
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session, then: "exit" }), "--sessions", "-1,-1", "--output-apply"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout).filter((l) => l.startsWith('["applied'))).toHaveLength(2); // two sessions
  });

  it("takes flowctl's --name, prints the connector's logs as JSON with --log-json, and ignores --network [MOD Preview]", async () => {
    const session = [{ log: { level: "info", message: "hello from the connector", fields: { n: 1 } } }, ...page([1], 1)];
    const run = await runFlowcap(["preview", "--source", scriptedCatalog({ session }), "--name", "acmeCo/scripted", "--sessions", "1", "--log-json", "--network", "flow-test"]);
    expect(run.code, run.stderr).toBe(0);
    expect(lines(run.stdout)).toHaveLength(1);
    expect(run.stderr).toMatch(/warning: --network flow-test is ignored/);
    const logs = run.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { message: string; fields?: { n: number } });
    expect(logs).toContainEqual(expect.objectContaining({ level: "info", message: "hello from the connector", fields: { n: 1 } }));
    const wrong = await runFlowcap(["preview", "--source", scriptedCatalog({ session }), "--name", "acmeCo/other"]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no capture named acmeCo\/other/);
  });

  it("ends with a per-binding summary on stderr: documents, bytes, checkpoints, rate", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog(), "--sessions", "2,1"]);
    expect(run.code, run.stderr).toBe(0);
    const documents = lines(run.stdout).length; // the summary is not on stdout
    expect(documents).toBeGreaterThanOrEqual(3);
    expect(run.stderr).toMatch(
      new RegExp(`flowcap: preview done: 2 session\\(s\\), 3 transaction\\(s\\) in [\\d.]+s\n\\s+binding\\s+collection\\s+documents\\s+bytes\\s+checkpoints\\s+rate\n\\s+counter\\s+acmeCo/counter\\s+${documents}\\s+[\\d.]+ (B|KiB)\\s+${documents}\\s+[\\d.]+/s\n`),
    );
  });
});

describe("flowcap preview --state-file", () => {
  it("starts from the file's state and writes the state back, so two runs resume like two sessions of a task", async () => {
    const source = pythonCatalog();
    const stateFile = path.join(path.dirname(source), "state.json");
    const ns = (stdout: string) => lines(stdout).map((l) => (JSON.parse(l) as [string, { n: number }])[1].n);
    const first = await runFlowcap(["preview", "--source", source, "--sessions", "2", "--state-file", stateFile]);
    expect(first.code, first.stderr).toBe(0);
    // Two transactions: the first checkpoint, then whatever was read while it was committed.
    const k = ns(first.stdout).length;
    expect(ns(first.stdout)).toEqual(Array.from({ length: k }, (_, i) => i + 1));
    expect(readFileSync(stateFile, "utf8")).toBe(`{"bindingStateV1":{"counter":{"n":${k}}}}\n`);
    const second = await runFlowcap(["preview", "--source", source, "--sessions", "1", "--state-file", stateFile]);
    expect(second.code, second.stderr).toBe(0);
    expect(ns(second.stdout)[0]).toBe(k + 1);
    expect(readFileSync(stateFile, "utf8")).toBe(`{"bindingStateV1":{"counter":{"n":${ns(second.stdout).at(-1)!}}}}\n`);
    // A starting state given twice is a usage error.
    const both = await runFlowcap(["preview", "--source", source, "--state-file", stateFile, "--initial-state", "{}"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--initial-state and --state-file .* both give a starting state/);
  });

  it("keeps large integers of the state exact, in the file and in the next run's open", async () => {
    const session = [captured({ id: 1 }), checkpoint('{"lsn":9007199254740993}')];
    const source = scriptedCatalog({ session });
    const stateFile = path.join(path.dirname(source), "state.json");
    writeFileSync(stateFile, '{"lsn":9007199254740992,"from":"before"}\n');
    const run = await runFlowcap(["preview", "--source", source, "--sessions", "1,1", "--state-file", stateFile]);
    expect(run.code, run.stderr).toBe(0);
    // The first session opens with the file's state as written (Flow hands the initial state on
    // as it is), the second with the state reduced from the first's checkpoint, digit for digit.
    expect(run.stderr).toContain('state={"lsn":9007199254740992,"from":"before"}');
    expect(run.stderr).toContain('state={"from":"before","lsn":9007199254740993}');
    expect(readFileSync(stateFile, "utf8")).toBe('{"from":"before","lsn":9007199254740993}\n');
  });
});
