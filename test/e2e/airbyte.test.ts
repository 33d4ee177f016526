// `flowcap airbyte -- <source>` driven as Flow drives a connector: the built CLI as a child
// process, the internal spec first, then the request; for captures, open, read, stop, and
// re-open with the reduced state. The source is the Python replay source (airbyteReplay.py).
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { airbyteBinding, flowcapAirbyte, FLOWCAP, INTERNAL_SPEC, captureUntilExit, openRequest, reduceSession, startEncryptionServer, tmpDir, writeScenario } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { alive, expectBoundedWhileStalled, expectExactlyOnce, readJsonLines } from "../helpers/shimE2e.js";
import { haveSharedFixtures, readFixture } from "../helpers/fixtures.js";

type Json = Record<string, unknown>;
const work = tmpDir("airbyte-e2e");
const SPEC = { documentationUrl: "https://example.com/docs", connectionSpecification: { type: "object", properties: { token: { type: "string", airbyte_secret: true } } } };

/** Starts `flowcap airbyte` over a replay scenario and sends the internal spec. */
function start(scenario: Json, options: { flags?: string[]; env?: Record<string, string>; readStdout?: boolean } = {}) {
  const file = writeScenario(work, scenario, `scenario-${Math.random().toString(36).slice(2)}.json`);
  const run = spawnConnector(flowcapAirbyte(options.flags), { env: { REPLAY_SCENARIO: file, ...options.env }, readStdout: options.readStdout });
  run.send(INTERNAL_SPEC);
  return run;
}

/** One unary request in a fresh process; stdin closes after it, as Flow does. */
async function unaryCli(scenario: Json, request: object, flags: string[] = [], env: Record<string, string> = {}) {
  const run = start(scenario, { flags, env });
  run.send(request);
  run.end();
  const { code } = await run.exit;
  return { code, out: run.stdout.json, last: run.logs().at(-1), logs: run.logs() };
}

/** Runs a capture session until the process exits by itself (the read ended). */
function captureCli(scenario: Json, bindings: ReturnType<typeof airbyteBinding>[], state: Json = {}, options: { env?: Record<string, string>; flags?: string[] } = {}) {
  return captureUntilExit(start(scenario, options), bindings, state);
}

describe("flowcap airbyte: the command", () => {
  it("explains itself, and refuses to run without the source's command", async () => {
    const help = spawnConnector([...FLOWCAP, "airbyte", "--help"]);
    expect((await help.exit).code).toBe(0);
    expect(help.stdout.lines.slice(0, 3)).toEqual(["flowcap airbyte: run an Airbyte source as a Flow capture connector", "", "Usage: flowcap airbyte [options] -- <command> [args...]"]);
    // Its own options and the ones every shim command takes, from one table.
    for (const flag of ["--patches DIR", "--legacy-state FORM", "--env NAME=VALUE", "--clean-env", "--kill-timeout-ms N"]) expect(help.stdout.lines.some((l) => l.trimStart().startsWith(flag))).toBe(true);
    const missing = spawnConnector([...FLOWCAP, "airbyte", "--cwd", "/tmp"]);
    expect((await missing.exit).code).toBe(2);
    expect(missing.stderr.lines[0]).toBe("flowcap airbyte: give the source's command after --, e.g. flowcap airbyte -- python3 main.py");
    expect(missing.stdout.lines).toEqual([]);
  });

  it("hands the source the whole environment, or with --clean-env only the allowlist and --pass-env names, logging what it held back", async () => {
    const log = path.join(work, `env-${Math.random().toString(36).slice(2)}.jsonl`);
    const env = { DEPLOYMENT_MODE: "cloud", AIRBYTE_ENABLE_UNSAFE_CODE: "true", LOG_LEVEL: "debug" };
    const inherited = await unaryCli({ spec: SPEC, log }, INTERNAL_SPEC, [], env);
    const clean = await unaryCli({ spec: SPEC, log }, INTERNAL_SPEC, ["--clean-env"], env);
    expect([inherited.code, clean.code]).toEqual([0, 0]);
    const [first, second] = readJsonLines(log).map((e) => e.env as string[]);
    expect(first).toEqual(expect.arrayContaining(["DEPLOYMENT_MODE", "AIRBYTE_ENABLE_UNSAFE_CODE", "REPLAY_SCENARIO"]));
    expect(second).toEqual(expect.arrayContaining(["AIRBYTE_ENABLE_UNSAFE_CODE", "REPLAY_SCENARIO"]));
    expect(second).not.toContain("DEPLOYMENT_MODE");
    expect(clean.logs).toContainEqual(expect.objectContaining({ level: "debug", message: expect.stringMatching(/holding back 1 environment variable\(s\) \(--clean-env\): DEPLOYMENT_MODE$/) }));
  });
});

describe.runIf(haveSharedFixtures)("flowcap airbyte: Estuary's golden spec and discover (source-hubspot)", () => {
  it("answers the spec (oauth2 from --oauth2) and the bindings Estuary's shim does", async () => {
    const dir = "flow/shim/source-hubspot";
    const golden = (JSON.parse(readFixture(dir, "snapshots__spec__capture.stdout.json")) as Json[])[0]!;
    const oauth2 = path.join(work, "hubspot.oauth2.json");
    writeFileSync(oauth2, JSON.stringify(golden.oauth2));
    const discover = JSON.parse(readFixture(dir, "snapshots__discover__capture.stdout.json")) as { resourceConfig: Json; key: string[]; recommendedName: string }[];
    const catalog = {
      streams: discover.map((b) => ({
        name: b.resourceConfig.stream,
        json_schema: { type: "object" },
        supported_sync_modes: b.resourceConfig.syncMode === "incremental" ? ["full_refresh", "incremental"] : ["full_refresh"],
        // Written as Airbyte sources write them: a list of field names.
        source_defined_primary_key: b.key.map((p) => p.slice(1)),
        ...(b.resourceConfig.cursorField ? { default_cursor_field: b.resourceConfig.cursorField } : {}),
      })),
    };
    const scenario = { spec: parseYaml(readFixture(dir, "airbyte_spec.yaml")), catalog };
    const spec = await unaryCli(scenario, INTERNAL_SPEC, ["--oauth2", oauth2]);
    expect(spec.code).toBe(0);
    expect(spec.out).toEqual([{ spec: golden }, { spec: golden }]);
    const found = await unaryCli({ ...scenario, spec: SPEC }, { discover: { connectorType: "LOCAL", config: {} } });
    expect(found.code).toBe(0);
    const bindings = (found.out[1] as { discovered: { bindings: { resourceConfig: Json; key: string[]; recommendedName: string }[] } }).discovered.bindings;
    expect(bindings.map((b) => [b.recommendedName, b.resourceConfig, b.key])).toEqual(discover.map((b) => [b.recommendedName, b.resourceConfig, b.key]));
  });
});

describe("flowcap airbyte: validate", () => {
  const validate = (stream: string) => ({
    validate: { name: "acmeCo/x", connectorType: "LOCAL", config: { token: "t" }, bindings: [{ resourceConfig: { stream, syncMode: "incremental" }, collection: { name: "acmeCo/x", key: ["/id"] }, backfill: 0 }] },
  });
  const catalog = { streams: [{ name: "users", json_schema: {}, supported_sync_modes: ["incremental"], source_defined_primary_key: [["id"]] }] };

  it("reports a failed check as the user's error, with the source's message", async () => {
    const { code, last, out } = await unaryCli({ spec: SPEC, catalog, check: { status: "FAILED", message: "401 Unauthorized: bad token" } }, validate("users"));
    expect(code).toBe(1);
    expect(last).toMatchObject({ level: "error", message: "the source's connection check failed: 401 Unauthorized: bad token" });
    expect(out).toHaveLength(1);
  });

  it("names unknown streams, and validates known ones", async () => {
    const bad = await unaryCli({ spec: SPEC, catalog }, validate("userz"));
    expect(bad.code).toBe(1);
    expect(bad.last?.message).toBe('bindings: bindings[0].resourceConfig.stream: the source has no stream "userz" (it has: "users")');
    const good = await unaryCli({ spec: SPEC, catalog }, validate("users"));
    expect(good.code).toBe(0);
    expect(good.out[1]).toEqual({ validated: { bindings: [{ resourcePath: ["users"] }] } });
  });
});

describe("flowcap airbyte: LEGACY state options", () => {
  /** Runs a read that writes `state` as a LEGACY STATE, then one more; returns the kept state and the state file the second read got. */
  async function twoReads(state: unknown, flags: string[] = []) {
    const name = Math.random().toString(36).slice(2);
    const stream = path.join(work, `legacy-${name}.jsonl`);
    writeFileSync(stream, [JSON.stringify({ type: "RECORD", record: { stream: "a", data: { id: 1 }, emitted_at: 1 } }), JSON.stringify({ type: "STATE", state: { data: state } })].join("\n") + "\n");
    const log = path.join(work, `legacy-${name}.log.jsonl`);
    const first = await captureCli({ spec: SPEC, read: { file: stream } }, [airbyteBinding("a")], {}, { flags });
    expect(first.code, JSON.stringify(first.last)).toBe(0);
    const empty = path.join(work, "empty.jsonl");
    writeFileSync(empty, "");
    const second = await captureCli({ spec: SPEC, log, read: { file: empty } }, [airbyteBinding("a")], first.reduced.state, { flags });
    expect(second.code, JSON.stringify(second.last)).toBe(0);
    return { kept: first.reduced.state, handed: readJsonLines(log).find((e) => e.command === "read")!.state };
  }

  it("hands LEGACY state back as the blob itself, or with --legacy-state message as a list of one LEGACY message", async () => {
    const blob = { a: { cursor: 1 }, version: 2 };
    expect((await twoReads(blob)).handed).toEqual(blob);
    expect((await twoReads(blob, ["--legacy-state", "message"])).handed).toEqual([{ type: "LEGACY", data: blob }]);
  });

  it("keeps Faros' gzip+base64 state decoded in Flow's state, or with --no-decode-state compressed as the source wrote it", async () => {
    const plain = { a: { cursor: 7 } };
    const compressed = { format: "base64/gzip", data: gzipSync(JSON.stringify(plain)).toString("base64") };
    const decoded = await twoReads(compressed);
    expect(decoded.kept).toMatchObject({ bindingStateV1: { a: { legacy: { cursor: 7 } } }, airbyte: { kind: "LEGACY" } });
    expect(decoded.handed).toEqual(plain);
    const kept = await twoReads(compressed, ["--no-decode-state"]);
    expect(kept.kept).toMatchObject({ airbyte: { kind: "LEGACY", legacy: compressed } });
    expect((kept.kept.bindingStateV1 as Record<string, Json>).a).not.toHaveProperty("legacy");
    expect(kept.handed).toEqual(compressed);
  });
});

describe("flowcap airbyte: capture", () => {
  it("runs read with the config unchanged and a catalog and state in private *.json files that are removed afterwards", async () => {
    const log = path.join(work, "files.log.jsonl");
    const bindings = [airbyteBinding("a"), airbyteBinding("b")];
    const scenario = { spec: SPEC, log, read: { counter: { total: 20, every: 5 } } };
    const first = await captureCli(scenario, bindings);
    expect(first.code, JSON.stringify(first.last)).toBe(0);
    expectExactlyOnce(first.reduced.docs, ["a", "b"], 20);
    const second = await captureCli(scenario, bindings, first.reduced.state);
    expect(second.code).toBe(0);
    expect(second.reduced.docs).toEqual([]); // nothing new: it resumed from the state
    // Each session asks the source for its spec (to check the config) and reads: open runs no discover.
    expect(readJsonLines(log).map((e) => e.command)).toEqual(["spec", "read", "spec", "read"]);
    const reads = readJsonLines(log).filter((e) => e.command === "read");
    expect(reads[0]!.config).toEqual({ token: "tok-1234567" });
    expect(reads[1]!.state).toEqual([
      { type: "STREAM", stream: { stream_descriptor: { name: "a" }, stream_state: { cursor: 20 } } },
      { type: "STREAM", stream: { stream_descriptor: { name: "b" }, stream_state: { cursor: 20 } } },
    ]);
    for (const entry of reads) {
      for (const name of ["config", "catalog", "state"]) {
        const file = entry[`${name}_path`] as string | undefined;
        if (!file) continue;
        expect(file.endsWith(`/${name}.json`)).toBe(true);
        expect(entry[`${name}_mode`]).toBe("0o600");
        expect(existsSync(file)).toBe(false);
        expect(existsSync(path.dirname(file))).toBe(false);
      }
    }
    // The secret never reaches a log line.
    expect(first.run.stderr.lines.join("\n")).not.toContain("tok-1234567");
  });

  it.each(["STREAM", "GLOBAL", "LEGACY"])("loses nothing when the source crashes mid-stream (%s state): the restart resumes from the last state", async (type) => {
    const bindings = [airbyteBinding("a"), airbyteBinding("b")];
    const crashing = await captureCli({ spec: SPEC, read: { counter: { total: 100, every: 10, type }, crash_after: 57 } }, bindings);
    expect(crashing.code).toBe(1);
    expect(crashing.last?.message).toMatch(/^python3 .*airbyteReplay\.py read exited with code 3\nlast lines of its stderr:\ncrashing$/);
    const committed = crashing.reduced.docs;
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(100);
    // Nothing after the source's last STATE was committed: both streams stop at the same cursor.
    const last = Math.max(...committed.map((d) => d.doc.id as number));
    expect(last % 10).toBe(0);
    const resumed = await captureCli({ spec: SPEC, read: { counter: { total: 100, every: 10, type } } }, bindings, crashing.reduced.state);
    expect(resumed.code).toBe(0);
    expectExactlyOnce([...committed, ...resumed.reduced.docs], ["a", "b"], 100);
  });

  it("fails with the source's TRACE error and the tail of its stderr when it exits non-zero", async () => {
    const { code, last } = await captureCli(
      { spec: SPEC, read: { counter: { total: 3, every: 10 }, stderr: ["Traceback (most recent call last):", '  File "source.py", line 12'], trace_error: "Invalid credentials for the users endpoint", exit: 1 } },
      [airbyteBinding("a")],
    );
    expect(code).toBe(1);
    expect(last?.message).toMatch(/^Invalid credentials for the users endpoint \(python3 .*airbyteReplay\.py read exited with code 1\)\nlast lines of its stderr:\nTraceback \(most recent call last\):\n {2}File "source.py", line 12$/);
  });

  it("fails on a RECORD Python wrote with NaN, naming the stdout line, and commits nothing after it", async () => {
    const file = path.join(work, "nan.jsonl");
    writeFileSync(
      file,
      [
        '{"type": "RECORD", "record": {"stream": "a", "data": {"id": 1, "score": 0.5}, "emitted_at": 1}}',
        '{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"cursor": 1}}}}',
        "Fetching the next page",
        '{"type": "RECORD", "record": {"stream": "a", "data": {"id": 2, "score": NaN}, "emitted_at": 1}}',
        '{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "a"}, "stream_state": {"cursor": 2}}}}',
      ].join("\n") + "\n",
    );
    const { code, last, run } = await captureCli({ spec: SPEC, read: { file } }, [airbyteBinding("a")]);
    expect(code).toBe(1);
    expect(last).toMatchObject({ level: "error", fields: { code: "SOURCE_OUTPUT_INVALID", line: 4 } });
    expect(last?.message).toMatch(/^the source wrote an unreadable Airbyte RECORD message \(stdout line 4, not valid JSON: .*NaN/);
    expect(run.logs()).toContainEqual(expect.objectContaining({ message: "Fetching the next page" }));
    const committed = reduceSession(run.stdout.json);
    expect(committed.docs.map((d) => d.doc.id)).toEqual([1]);
    expect(committed.state).toMatchObject({ bindingStateV1: { a: { stream: { cursor: 1 } } } });
  });

  it("fails a source that hangs, naming it and the silence, after --idle-timeout-ms; what it sent before its last state stays committed", async () => {
    const { code, last, run } = await captureCli({ spec: SPEC, read: { counter: { total: 4, every: 2 }, hang: true } }, [airbyteBinding("a")], {}, { flags: ["--idle-timeout-ms", "6000"] });
    expect(code, JSON.stringify(run.logs().slice(-3))).toBe(1);
    expect(last).toMatchObject({ level: "error", fields: { code: "SOURCE_IDLE", idleTimeoutMs: 6000 } });
    expect(last?.message).toMatch(/^python3 \S*airbyteReplay\.py read wrote nothing, on stdout or stderr, for \d+ s: it looks hung, so it was stopped/);
    expect(reduceSession(run.stdout.json).docs.map((d) => d.doc.id)).toEqual([1, 2, 3, 4]);
  });

  it("passes SIGTERM on to the source, and commits nothing after its last state", async () => {
    const log = path.join(work, "sigterm.log.jsonl");
    const run = start({ spec: SPEC, log, read: { counter: { total: null, every: 100 } } });
    run.send(openRequest({}, [airbyteBinding("a")]));
    await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= 3, 90_000);
    const pid = readJsonLines(log).find((e) => e.command === "read")!.pid as number;
    expect(alive(pid)).toBe(true);
    run.child.kill("SIGTERM");
    const { code } = await run.exit;
    expect(code).toBe(0);
    expect(alive(pid)).toBe(false);
    const session = reduceSession(run.stdout.json);
    expect(session.uncommitted).toBe(0);
    expectExactlyOnce(session.docs, ["a"], session.docs.length);
    expect(session.docs.length % 100).toBe(0);
  });

  it("keeps memory bounded while Flow reads slowly, and loses nothing once it reads again", async () => {
    const run = start({ spec: SPEC, read: { counter: { total: null, every: 1000, padding: 1000, progress: 1000 } } }, { readStdout: false });
    run.send(openRequest({}, [airbyteBinding("a")]));
    await expectBoundedWhileStalled(run);
  });

  it("emits a configUpdate event for the source's CONTROL message, encrypted at ENCRYPTION_URL", async () => {
    const server = await startEncryptionServer({ token_sops: "ENC[...]", sops: {} });
    const { posted, url } = server;
    try {
      const { code, run } = await captureCli({ spec: SPEC, control: { token: "tok-rotated-99" }, read: { counter: { total: 2 } } }, [airbyteBinding("a")], {}, { env: { ENCRYPTION_URL: url } });
      expect(code).toBe(0);
      expect(posted).toEqual([{ config: { token: "tok-rotated-99" }, schema: SPEC.connectionSpecification }]);
      expect(run.logs().find((l) => l.fields.eventType === "configUpdate")).toMatchObject({ fields: { config: { token_sops: "ENC[...]", sops: {} } } });
      expect(run.stderr.lines.join("\n")).not.toContain("tok-rotated-99");
    } finally {
      server.close();
    }
  });
});

