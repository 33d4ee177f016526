// `flowcap singer -- <tap>` driven as Flow drives a connector: the built CLI as a child process,
// the internal spec first, then the request; for captures, open, sync, stop, and re-open with
// the reduced state. The tap is the Python replay tap (singerReplay.py).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FLOWCAP, INTERNAL_SPEC, captureUntilExit, openRequest, reduceSession, startEncryptionServer, tmpDir, writeScenario } from "../helpers/airbyte.js";
import { spawnConnector } from "../helpers/child.js";
import { alive, expectBoundedWhileStalled, expectExactlyOnce, readJsonLines } from "../helpers/shimE2e.js";
import { catalogEntry, flowcapSinger, singerBinding } from "../helpers/singer.js";

type Json = Record<string, unknown>;
const work = tmpDir("singer-e2e");
const CATALOG = { streams: [catalogEntry("a"), catalogEntry("b")] };
const SCHEMA_FILE = path.join(work, "config-schema.json");
writeFileSync(SCHEMA_FILE, JSON.stringify({ type: "object", properties: { token: { type: "string", secret: true } }, required: ["token"] }));

/** Starts `flowcap singer` over a replay scenario and sends the internal spec. */
function start(scenario: Json, options: { flags?: string[]; env?: Record<string, string>; readStdout?: boolean } = {}) {
  const file = writeScenario(work, { catalog: CATALOG, ...scenario }, `scenario-${Math.random().toString(36).slice(2)}.json`);
  const run = spawnConnector(flowcapSinger(options.flags ?? ["--config-schema", SCHEMA_FILE]), { env: { SINGER_SCENARIO: file, ...options.env }, readStdout: options.readStdout });
  run.send(INTERNAL_SPEC);
  return run;
}

/** Runs a capture session until the process exits by itself (the sync ended). */
function captureCli(scenario: Json, bindings: ReturnType<typeof singerBinding>[], state: Json = {}, options: { env?: Record<string, string>; flags?: string[] } = {}) {
  return captureUntilExit(start(scenario, options), bindings, state);
}

describe("flowcap singer: the command", () => {
  it("explains itself, and refuses to run without the tap's command or with options that disagree", async () => {
    const help = spawnConnector([...FLOWCAP, "singer", "--help"]);
    expect((await help.exit).code).toBe(0);
    expect(help.stdout.lines.slice(0, 3)).toEqual(["flowcap singer: run a Singer tap as a Flow capture connector", "", "Usage: flowcap singer [options] -- <command> [args...]"]);
    for (const flag of ["--catalog-arg HOW", "--env NAME=VALUE", "--clean-env", "--kill-timeout-ms N"]) expect(help.stdout.lines.some((l) => l.trimStart().startsWith(flag))).toBe(true);
    for (const [args, message] of [
      [["--cwd", "/tmp"], "flowcap singer: give the tap's command after --, e.g. flowcap singer -- tap-github"],
      [["--catalog-arg", "sometimes", "--", "tap"], 'flowcap singer: --catalog-arg is catalog, properties or none, got "sometimes"'],
      [["--properties", "--catalog-arg", "none", "--", "tap"], "flowcap singer: --properties and --catalog-arg disagree"],
      [["--max-tracked-keys", "lots", "--", "tap"], "flowcap singer: --max-tracked-keys wants a whole number"],
      [["--catalog", SCHEMA_FILE, "--", "tap"], `flowcap singer: ${SCHEMA_FILE} does not hold a Singer catalog (an object with a "streams" list)`],
    ] as const) {
      const run = spawnConnector([...FLOWCAP, "singer", ...args]);
      expect((await run.exit).code, args.join(" ")).toBe(2);
      expect(run.stderr.lines[0]).toBe(message);
      expect(run.stdout.lines).toEqual([]);
    }
  });
});

describe("flowcap singer: capture", () => {
  it("syncs with the config unchanged and a catalog and state in private *.json files that are removed afterwards", async () => {
    const log = path.join(work, "files.log.jsonl");
    const bindings = [singerBinding("a"), singerBinding("b")];
    const scenario = { log, sync: { counter: { total: 20, every: 5 } } };
    const first = await captureCli(scenario, bindings);
    expect(first.code, JSON.stringify(first.last)).toBe(0);
    expectExactlyOnce(first.reduced.docs, ["a", "b"], 20);
    const second = await captureCli(scenario, bindings, first.reduced.state);
    expect(second.code).toBe(0);
    expect(second.reduced.docs).toEqual([]); // nothing new: it resumed from its bookmarks
    const syncs = readJsonLines(log).filter((e) => !e.discover && Array.isArray(e.argv) && (e.argv as string[]).includes("--catalog"));
    expect(syncs).toHaveLength(2);
    expect(syncs[0]!.config).toEqual({ token: "tok-1234567" });
    expect(syncs[0]!.state).toBeUndefined();
    expect(syncs[1]!.state).toEqual({ bookmarks: { a: { id: 20 }, b: { id: 20 } } });
    for (const entry of readJsonLines(log)) {
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

  it("loses nothing when the tap crashes mid-stream: the restart resumes from its last state", async () => {
    const bindings = [singerBinding("a"), singerBinding("b")];
    const crashing = await captureCli({ sync: { counter: { total: 100, every: 10 }, crash_after: 57 } }, bindings);
    expect(crashing.code).toBe(1);
    expect(crashing.last?.message).toMatch(/^python3 .*singerReplay\.py sync exited with code 3\nlast lines of its stderr:\ncrashing$/);
    const committed = crashing.reduced.docs;
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(200);
    // Nothing after the tap's last STATE was committed: both streams stop at the same id.
    const last = Math.max(...committed.map((d) => d.doc.id as number));
    expect(last % 10).toBe(0);
    const resumed = await captureCli({ sync: { counter: { total: 100, every: 10 } } }, bindings, crashing.reduced.state);
    expect(resumed.code).toBe(0);
    expectExactlyOnce([...committed, ...resumed.reduced.docs], ["a", "b"], 100);
  });

  it("fails with what the tap said of its failure, then its exit status and the tail of its stderr", async () => {
    const { code, last } = await captureCli({ sync: { counter: { total: 3, every: 10 }, fail_with: "requests.exceptions.HTTPError: 401 Client Error: Unauthorized" } }, [singerBinding("a")]);
    expect(code).toBe(1);
    expect(last?.message).toMatch(/^requests\.exceptions\.HTTPError: 401 Client Error: Unauthorized \(python3 .*singerReplay\.py sync exited with code 1\)\nlast lines of its stderr:\nTraceback/);
  });

  it("fails a tap that hangs, naming it and the silence, after --idle-timeout-ms", async () => {
    const { code, last, run } = await captureCli({ sync: { counter: { streams: ["a"], total: 4, every: 2 }, hang: true } }, [singerBinding("a")], {}, { flags: ["--config-schema", SCHEMA_FILE, "--idle-timeout-ms", "6000"] });
    expect(code).toBe(1);
    expect(last).toMatchObject({ level: "error", fields: { code: "SOURCE_IDLE", idleTimeoutMs: 6000 } });
    expect(last?.message).toMatch(/^python3 \S*singerReplay\.py sync wrote nothing, on stdout or stderr, for \d+ s: it looks hung, so it was stopped/);
    expect(reduceSession(run.stdout.json).docs.map((d) => d.doc.id)).toEqual([1, 2, 3, 4]);
  });

  it("passes SIGTERM on to the tap, and commits nothing after its last state", async () => {
    const log = path.join(work, "sigterm.log.jsonl");
    const run = start({ log, sync: { counter: { streams: ["a"], total: null, every: 100 } } });
    run.send(openRequest({ token: "t" }, [singerBinding("a")]));
    await run.stdout.until((lines) => lines.filter((l) => l.startsWith('{"checkpoint"')).length >= 3, 90_000);
    const pid = readJsonLines(log).find((e) => !e.discover)!.pid as number;
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
    const run = start({ sync: { counter: { streams: ["a"], total: null, every: 1000, padding: 1000, progress: 1000 } } }, { readStdout: false });
    run.send(openRequest({ token: "t" }, [singerBinding("a")]));
    await expectBoundedWhileStalled(run);
  });

  it("emits a configUpdate event when the tap rewrites its config file, encrypted at ENCRYPTION_URL", async () => {
    const server = await startEncryptionServer({ token_sops: "ENC[...]", sops: {} });
    try {
      const { code, run } = await captureCli({ rewrite_config: { token: "tok-rotated-99" }, sync: { counter: { streams: ["a"], total: 2 } } }, [singerBinding("a")], {}, { env: { ENCRYPTION_URL: server.url } });
      expect(code).toBe(0);
      expect(server.posted).toEqual([{ config: { token: "tok-rotated-99" }, schema: JSON.parse(readFileSync(SCHEMA_FILE, "utf8")) }]);
      expect(run.logs().find((l) => l.fields.eventType === "configUpdate")).toMatchObject({ fields: { config: { token_sops: "ENC[...]", sops: {} } } });
      expect(run.stderr.lines.join("\n")).not.toContain("tok-rotated-99");
    } finally {
      server.close();
    }
  });
});

describe("flowcap singer: taps of every kind", () => {
  it("reads message types in any case", async () => {
    const { code, reduced } = await captureCli({ sync: { counter: { total: 12, every: 5, type: "lower" } } }, [singerBinding("a"), singerBinding("b")]);
    expect(code).toBe(0);
    expectExactlyOnce(reduced.docs, ["a", "b"], 12);
    expect(reduced.checkpoints).toBe(4); // 5, 10, the end, and the final one
  });

  it("hands a legacy tap its catalog as --properties, having read its --help", async () => {
    const log = path.join(work, "properties.log.jsonl");
    const { code, reduced, run } = await captureCli({ flags: "properties", log, sync: { counter: { streams: ["a"], total: 3 } } }, [singerBinding("a")]);
    expect(code, JSON.stringify(run.logs().at(-1))).toBe(0);
    expect(reduced.docs).toHaveLength(3);
    const sync = readJsonLines(log).find((e) => e.properties)!;
    expect(sync.catalog).toBeUndefined();
    expect((sync.properties as { streams: Json[] }).streams.map((s) => [s.tap_stream_id, (s.schema as Json).selected])).toEqual([
      ["a", true],
      ["b", false],
    ]);
    expect(run.logs().some((l) => l.message === "handing the catalog to the tap as --properties (from what its --help says)")).toBe(true);
  });

  it("hands a tap without a catalog argument none, and takes a catalog for a tap without --discover", async () => {
    const log = path.join(work, "none.log.jsonl");
    const catalogFile = path.join(work, "given-catalog.json");
    writeFileSync(catalogFile, JSON.stringify({ streams: [catalogEntry("a")] }));
    const { code, reduced } = await captureCli({ flags: "none", log, sync: { counter: { streams: ["a"], total: 3 } } }, [singerBinding("a")], {}, { flags: ["--catalog", catalogFile, "--config-schema", SCHEMA_FILE] });
    expect(code).toBe(0);
    expect(reduced.docs).toHaveLength(3);
    const calls = readJsonLines(log);
    expect(calls.some((e) => e.discover)).toBe(false);
    expect(calls.find((e) => e.config)!.argv).toEqual(["--config", expect.stringMatching(/config\.json$/)]);
  });

  it("takes its config schema from --about, or from --config-schema given --about's output", async () => {
    const about = { name: "tap-replay", capabilities: ["catalog", "discover", "state"], settings: { properties: { count: { type: "integer" } }, required: ["count"] } };
    const aboutFile = path.join(work, "about.json");
    writeFileSync(aboutFile, JSON.stringify(about));
    for (const [scenario, flags] of [
      [{ about }, []],
      [{}, ["--config-schema", aboutFile]],
    ] as const) {
      const run = start(scenario, { flags: [...flags] });
      run.send({ discover: { connectorType: "LOCAL", config: { count: "three" } } });
      run.end();
      expect((await run.exit).code).toBe(1);
      expect((run.stdout.json[0] as { spec: { configSchema: Json } }).spec.configSchema).toEqual({ type: "object", ...about.settings });
      expect(run.logs().at(-1)?.message).toBe("endpoint config: count: must be integer");
    }
  });
});
