import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/fixtures.js";
import { FLOWCAP, pythonCatalog, runFlowcap, sdkAcksCatalog, tempTree } from "../helpers/cli.js";

const HELLO_MAIN = path.join(repoRoot, "dist/connectors/source-hello-world/main.js");
type Doc = { count: number; _meta: { uuid: string } };

/** A catalog for hello-world at `rate`, in a temporary directory (so discover may rewrite it). */
function helloCatalog(rate = 50, extra = ""): string {
  const dir = tempTree({
    "flow.yaml": [
      "# my capture: keep this comment",
      "captures:",
      "  acmeCo/source-hello-world:",
      "    endpoint:",
      "      local:",
      `        command: [node, ${JSON.stringify(HELLO_MAIN)}]`,
      `        config: {rate: ${rate}}`,
      extra,
    ].join("\n"),
  });
  return path.join(dir, "flow.yaml");
}

describe("flowcap CLI", () => {
  it("lists its commands, and refuses unknown ones with exit 2", async () => {
    const help = await runFlowcap(["--help"]);
    expect(help.code).toBe(0);
    for (const c of ["spec", "discover", "validate", "apply", "preview", "check"]) expect(help.stdout).toMatch(new RegExp(`^  ${c}\\s`, "m"));
    // No command at all is a usage error: the usage goes to stderr, with exit 2 (stdout stays empty).
    const bare = await runFlowcap([]);
    expect(bare.code).toBe(2);
    expect(bare.stdout).toBe("");
    expect(bare.stderr).toMatch(/^flowcap: build, wrap and test capture connectors for Estuary Flow\n\nUsage: flowcap <command> \[options\]/);
    const unknown = await runFlowcap(["fly"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "fly"/);
    const noSource = await runFlowcap(["spec"]);
    expect(noSource.code).toBe(2);
    expect(noSource.stderr).toMatch(/--source <flow.yaml> is required/);
    const badFlag = await runFlowcap(["preview", "--source", "x", "--sesions", "1"]);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/Unknown option '--sesions'/);
  });

  it("spec prints the connector's spec as one JSON line", async () => {
    const run = await runFlowcap(["spec", "--source", "test.flow.yaml"]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    expect(run.json[0]).toMatchObject({ protocol: 3032023, resourcePathPointers: ["/name"], configSchema: { title: "Hello World" } });
  });

  it("discover --emit-raw prints each binding; discover writes them into the catalog, keeping what the user wrote", async () => {
    const source = helloCatalog();
    const raw = await runFlowcap(["discover", "--source", source, "--emit-raw"]);
    expect(raw.code).toBe(0);
    expect(raw.json).toEqual([expect.objectContaining({ recommendedName: "greetings", resourceConfig: { name: "greetings" }, key: ["/count"] })]);

    const first = await runFlowcap(["discover", "--source", source]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/1 added, 0 already bound/);
    const catalog = readFileSync(source, "utf8");
    expect(catalog).toMatch(/^# my capture: keep this comment/);
    expect(catalog).toMatch(/import:\n\s+- acmeCo\/flow.yaml/);
    expect(catalog).toMatch(/target: acmeCo\/greetings/);
    const collections = readFileSync(path.join(path.dirname(source), "acmeCo/flow.yaml"), "utf8");
    expect(collections).toMatch(/acmeCo\/greetings:\n\s+schema: greetings.schema.yaml\n\s+key:\n\s+- \/count/);
    expect(readFileSync(path.join(path.dirname(source), "acmeCo/greetings.schema.yaml"), "utf8")).toMatch(/title: Greeting/);

    // The user edits the binding; a second discover keeps the edit and adds nothing.
    writeFileSync(source, readFileSync(source, "utf8").replace("target: acmeCo/greetings", "target: acmeCo/greetings\n        backfill: 2 # bumped by hand"));
    const second = await runFlowcap(["discover", "--source", source]);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/0 added, 1 already bound/);
    expect(readFileSync(source, "utf8")).toMatch(/backfill: 2 # bumped by hand/);

    // The catalog now previews.
    const preview = await runFlowcap(["preview", "--source", source, "--sessions", "1"]);
    expect(preview.code, preview.stderr).toBe(0);
    expect(preview.json[0]).toEqual(["acmeCo/greetings", expect.objectContaining({ count: 1 })]);
  });

  it("discover rewrites a bound collection's schema file, keeping the rest of what the user wrote", async () => {
    const source = helloCatalog(50, ["    bindings:", "      - resource: {name: greetings}", "        target: acmeCo/greetings # kept", "import: [acmeCo/flow.yaml]"].join("\n"));
    const dir = path.dirname(source);
    mkdirSync(path.join(dir, "acmeCo"));
    const collections = [
      "# collections, written by hand",
      "collections:",
      "  acmeCo/greetings:",
      "    schema: greetings.schema.yaml # the discovered schema goes here",
      "    key: [/count]",
      "    projections:",
      "      when: /ts",
      "  acmeCo/notes:",
      "    schema: {type: object}",
      "    key: [/id]",
      "",
    ].join("\n");
    writeFileSync(path.join(dir, "acmeCo/flow.yaml"), collections);
    writeFileSync(path.join(dir, "acmeCo/greetings.schema.yaml"), "type: object\ntitle: An old greeting\n");

    const run = await runFlowcap(["discover", "--source", source]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/0 added, 1 already bound/);
    expect(run.stderr).toMatch(/~ schema of acmeCo\/greetings/);
    const schema = readFileSync(path.join(dir, "acmeCo/greetings.schema.yaml"), "utf8");
    expect(schema).toMatch(/^title: Greeting$/m);
    expect(schema).not.toMatch(/An old greeting/);
    expect(schema).toMatch(/required:\n\s+- count/);
    // The collections file, projections and other collection included, is as the user wrote it.
    expect(readFileSync(path.join(dir, "acmeCo/flow.yaml"), "utf8")).toBe(collections);
    expect(readFileSync(source, "utf8")).toMatch(/^# my capture: keep this comment/);
    expect(readFileSync(source, "utf8")).toMatch(/target: acmeCo\/greetings # kept/);
  });

  it("--capture selects one capture of a catalog that has several", async () => {
    const counter = (greeting: string) => ({
      endpoint: { local: { command: ["python3", path.join(repoRoot, "test/fixtures/connectors/python/counter.py")], config: { greeting, interval_ms: 20 } } },
      bindings: [{ resource: { name: "counter" }, target: "acmeCo/counter" }],
    });
    const dir = tempTree({
      "flow.yaml": JSON.stringify({
        captures: { "acmeCo/first": counter("first"), "acmeCo/second": counter("second") },
        collections: { "acmeCo/counter": { schema: { type: "object" }, key: ["/n"] } },
      }),
    });
    const unchosen = await runFlowcap(["preview", "--source", "flow.yaml", "--sessions", "1"], { cwd: dir });
    expect(unchosen.code).toBe(1);
    expect(unchosen.stderr).toMatch(/flow.yaml declares 2 captures \(acmeCo\/first, acmeCo\/second\): choose one with --capture/);
    const second = await runFlowcap(["preview", "--source", "flow.yaml", "--capture", "acmeCo/second", "--sessions", "1"], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toEqual([["acmeCo/counter", expect.objectContaining({ n: 1, greeting: "second #1" })]]);
    const unknown = await runFlowcap(["spec", "--source", "flow.yaml", "--capture", "acmeCo/third"], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no capture named acmeCo\/third in flow.yaml \(it has: acmeCo\/first, acmeCo\/second\)/);
  });

  it("validate and apply print the connector's answers", async () => {
    const validate = await runFlowcap(["validate", "--source", "test.flow.yaml"]);
    expect(validate.code).toBe(0);
    expect(validate.json).toEqual([{ resourcePath: ["greetings"] }]);
    const apply = await runFlowcap(["apply", "--source", "test.flow.yaml"]);
    expect(apply.code).toBe(0);
    expect(apply.json).toEqual([{}]);
  });

  it("preview runs sessions of N transactions, reduces state between them, and prints documents and states as flowctl does", async () => {
    const run = await runFlowcap(["preview", "--source", "test.flow.yaml", "--sessions", "1,2", "--output-state", "--output-apply"]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.json as [string, unknown][];
    expect(lines[0]).toEqual(["applied.actionDescription", ""]);
    const docs = lines.filter(([k]) => k === "acmeCo/greetings").map(([, d]) => d as Doc);
    expect(docs.map((d) => d.count)).toEqual(docs.map((_, i) => i + 1));
    expect(docs.length).toBeGreaterThanOrEqual(3);
    for (const d of docs) expect(d._meta.uuid).toBe("DocUUIDPlaceholder-329Bb50aa48EAa9ef");
    const states = lines.filter(([k]) => k === "connectorState").map(([, s]) => s);
    expect(states).toHaveLength(4); // three transactions, then the final state
    expect(states.at(-1)).toEqual({ updated: { bindingStateV1: { greetings: { count: docs.at(-1)!.count } } } });
    expect(states[0]).toEqual({ updated: { bindingStateV1: { greetings: { count: docs[0]!.count } } }, mergePatch: true });
    // Not a TTY: no progress line, only the connector's logs.
    expect(run.stderr).not.toMatch(/\x1b\[/);
    expect(run.stderr).toMatch(/producing greetings/);
  });

  it("preview starts from --initial-state", async () => {
    const run = await runFlowcap(["preview", "--source", "test.flow.yaml", "--sessions", "1", "--initial-state", '{"bindingStateV1":{"greetings":{"count":100}}}']);
    expect(run.code, run.stderr).toBe(0);
    expect((run.json[0] as [string, Doc])[1].count).toBe(101);
    const bad = await runFlowcap(["preview", "--source", "test.flow.yaml", "--initial-state", "[1]"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--initial-state must be a JSON object/);
  });

  it("preview --delay folds the checkpoints read meanwhile into one transaction", async () => {
    const source = helloCatalog(200, "    bindings: [{resource: {name: greetings}, target: acmeCo/greetings}]\ncollections:\n  acmeCo/greetings: {schema: {type: object}, key: [/count]}");
    const run = await runFlowcap(["preview", "--source", source, "--sessions", "3", "--delay", "300ms", "--output-state"]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.json as [string, unknown][];
    const docs = lines.filter(([k]) => k === "acmeCo/greetings").length;
    const transactions = lines.filter(([k]) => k === "connectorState").length - 1;
    expect(transactions).toBe(3);
    expect(docs).toBeGreaterThan(6); // ~60 greetings in 300 ms at 200/s, in fewer transactions
  });

  it("preview stopped by Ctrl-C exits 0, having printed only whole transactions and the final state", async () => {
    const source = helloCatalog(200, "    bindings: [{resource: {name: greetings}, target: acmeCo/greetings}]\ncollections:\n  acmeCo/greetings: {schema: {type: object}, key: [/count]}");
    // In its own process group, signalled as a terminal signals its foreground group: the
    // connector's process group is its own, so SIGINT reaches flowcap alone.
    const child = spawn(process.execPath, [FLOWCAP, "preview", "--source", source, "--output-state"], { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += c;
        if ((stdout.match(/\["connectorState"/g) ?? []).length >= 3) resolve();
      });
    });
    process.kill(-child.pid!, "SIGINT");
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/flowcap: stopping the capture/);
    expect(stdout.endsWith("\n")).toBe(true);
    const lines = stdout.trim().split("\n").map((l) => JSON.parse(l) as [string, { count?: number; updated?: { bindingStateV1?: { greetings?: { count: number } } } }]);
    // Every document is followed by the state of its transaction; the last line is the final state.
    let count = 0;
    for (const [kind, value] of lines) {
      if (kind === "acmeCo/greetings") expect(value.count).toBe(++count);
      else expect(value.updated?.bindingStateV1?.greetings?.count).toBe(count);
    }
    expect(lines.at(-1)).toEqual(["connectorState", { updated: { bindingStateV1: { greetings: { count } } } }]);
    expect(count).toBeGreaterThan(0);
  });

  it.skipIf(spawnSync("script", ["--version"]).status !== 0)("on a terminal, never draws the status line into a stdout row, and ends with the summary", async () => {
    const source = helloCatalog(50, "    bindings: [{resource: {name: greetings}, target: acmeCo/greetings}]\ncollections:\n  acmeCo/greetings: {schema: {type: object}, key: [/count]}");
    // `script` runs the preview on a pseudo-terminal: stdout and stderr are the same terminal.
    const command = [process.execPath, FLOWCAP, "preview", "--source", source, "--sessions", "6", "--delay", "300ms"].map((a) => `'${a}'`).join(" ");
    const run = spawnSync("script", ["-qfec", command, "/dev/null"], { encoding: "utf8", timeout: 60_000, env: { ...process.env, COLUMNS: "200" } });
    expect(run.status, run.stderr).toBe(0);
    const screen = run.stdout.split(/\r?\n/);
    const rows = screen.filter((l) => l.includes('["acmeCo/greetings"'));
    expect(rows.length).toBeGreaterThan(6);
    expect(screen.some((l) => l.includes("session 1 · "))).toBe(true); // the status line was drawn
    // What the terminal shows of each row's line: what follows its last carriage return, after the
    // erase of the status line drawn there. The row must start it, with no status text before it.
    for (const row of rows) expect(row.slice(row.lastIndexOf("\r") + 1).replace(/^\x1b\[2K/, "")).toMatch(/^\["acmeCo\/greetings",\{.*\}\]$/);
    expect(run.stdout).toMatch(/flowcap: preview done: 1 session\(s\), 6 transaction\(s\)/);
  });

  it("previews a connector written in Python without flowcap", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog(), "--sessions", "2,2", "--output-state"]);
    expect(run.code, run.stderr).toBe(0);
    const ns = (run.json as [string, { n: number }][]).filter(([k]) => k === "acmeCo/counter").map(([, d]) => d.n);
    expect(ns).toEqual([1, 2, 3, 4]);
  });

  it("preview acknowledges each committed transaction, so an SDK connector with explicitAcknowledgements captures across sessions", async () => {
    // Unacknowledged, its ctx.checkpoint() would wait for ever after the first document.
    const run = await runFlowcap(["preview", "--source", sdkAcksCatalog(), "--sessions", "2,2"], { timeoutMs: 20_000 });
    expect(run.code, run.stderr).toBe(0);
    const ns = (run.json as [string, { n: number }][]).filter(([k]) => k === "acmeCo/ticks").map(([, d]) => d.n);
    expect(ns).toEqual([1, 2, 3, 4]);
  });

  it("preview acknowledges as many checkpoints as each transaction folded, at the next poll as Flow's runtime does", async () => {
    // The connector writes at most 3 checkpoints ahead of their acknowledgements, and fails an
    // acknowledge of more than are waiting. The first poll, after the 1 s delay, folds the 3
    // written meanwhile; their acknowledgement goes out with the next poll
    // (crates/runtime/src/capture/serve.rs @16fd25d7: send_connector_acknowledge when the next
    // Acknowledge arrives), and each later transaction folds what was written since.
    const source = pythonCatalog(undefined, { greeting: "hi", interval_ms: 10 }, { ACK_WINDOW: "3" });
    const run = await runFlowcap(["preview", "--source", source, "--sessions", "3", "--delay", "1s", "--output-state"], { timeoutMs: 30_000 });
    expect(run.code, run.stderr).toBe(0);
    const sizes: number[] = [0];
    for (const [k] of run.json as [string, unknown][]) {
      if (k === "acmeCo/counter") sizes[sizes.length - 1]!++;
      else sizes.push(0);
    }
    expect(sizes).toHaveLength(5); // three transactions, the final state, then nothing
    expect(sizes[0]).toBe(3);
    for (const size of sizes.slice(1, 3)) {
      expect(size).toBeGreaterThanOrEqual(1);
      expect(size).toBeLessThanOrEqual(3);
    }
  });

  it("fails a preview whose documents break their collection's schema, naming the document", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog("doc-schema"), "--sessions", "1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/flowcap: session 1, stdout line 3, binding 0 \(acmeCo\/counter\): document does not match the schema of acmeCo\/counter: \/n must be integer/);
  });

  it("fails a preview whose document lacks its collection key, naming the document and the key", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog("missing-key"), "--sessions", "1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/flowcap: session 1, stdout line 3, binding 0 \(acmeCo\/counter\): document has no value at key \/n of acmeCo\/counter/);
    expect(run.json).toEqual([]); // nothing of the failed transaction was printed
  });

  it("fails a preview at the first protocol violation, with the rule, the line and a hint", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog("binding-index"), "--sessions", "1"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/flowcap: protocol violation \[binding-index\]: stdout line 3: captured.binding is 5, but the capture has 1 binding\(s\)\n  line: \{"captured": /);
    expect(run.stderr).toMatch(/\n  hint: binding is the index of the binding in open.capture.bindings, from 0/);
  });

  it("reports a connector that fails with its last log line", async () => {
    const run = await runFlowcap(["preview", "--source", pythonCatalog("crash")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/flowcap: connector exited with status 1: the counter service went away/);
    expect(run.json.length).toBeGreaterThan(0); // what it committed before failing was printed
  });

  it("reports catalog mistakes with the file and place", async () => {
    const dir = tempTree({ "flow.yaml": "captures:\n  acmeCo/x:\n    endpoint: {local: {command: [node], config: 7}}\n" });
    const run = await runFlowcap(["preview", "--source", "flow.yaml"], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("flowcap: flow.yaml:3:49: captures.acmeCo/x.endpoint.local.config: must be a mapping, or the relative path of a YAML or JSON file\n");
  });
});
