// The shims end to end, with real processes and pipes, as Flow runs them: `flowcap airbyte --
// <source>` and `flowcap singer -- <tap>`, where the wrapped program is a shell script that `cat`s
// 1,000,000 RECORD lines (so it costs nearly nothing), Flow's side writing into /dev/null. Side by
// side in one run, each case a process started from scratch:
//  - baseline: a plain Node process that reads the same `cat` through a pipe, `JSON.parse`s each
//    line and writes `JSON.stringify`'d `captured`/`checkpoint` lines, batched: one write per
//    chunk read (a good naive loop, not one write per line);
//  - the naive Python loop (json.loads / json.dumps per line, a buffered stdout), which is what
//    a shim written in Python does;
//  - the physical ceiling: `cat` of the same bytes through the same pipes (`cat file | cat`).
// The shim also answers Flow's internal spec before the open (one more run of the script), and
// both Node processes include starting Node.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, writeFileSync, chmodSync, closeSync, rmSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const RECORDS = 1_000_000;
const STATE_EVERY = 10_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The fields of the i-th record, as Python's json.dumps writes them. */
const recordData = (i) =>
  `{"id": ${i}, "email": "user${i}@example.com", "name": "User Number ${i}", "active": ${i % 3 !== 0}, "score": ${(i * 1.25).toFixed(2)}, "address": {"city": "Lisbon", "zip": "1000-${i % 1000}"}, "tags": ["a", "b", "c"], "updated_at": "2024-05-01T12:${String(i % 60).padStart(2, "0")}:00Z"}`;

/** What each protocol's program writes, and how each naive loop reads it. */
const PROTOCOLS = {
  airbyte: {
    lines(push) {
      for (let i = 0; i < RECORDS; i++) {
        push(`{"type": "RECORD", "record": {"stream": "users", "data": ${recordData(i)}, "emitted_at": 1714564800000}}`);
        if (i % STATE_EVERY === STATE_EVERY - 1) push(`{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": ${i}}}}}`);
      }
    },
    script: (file) => `#!/bin/sh\nif [ "$1" = spec ]; then echo '{"type":"SPEC","spec":{"documentationUrl":"https://example.com","connectionSpecification":{"type":"object"}}}'; else exec cat ${JSON.stringify(file)}; fi\n`,
    node: {
      doc: "m.record.data",
      state: "{ bindingStateV1: { users: { stream: m.state.stream.stream_state, rowId } } }",
    },
    python: {
      doc: 'm["record"]["data"]',
      state: '{"bindingStateV1": {"users": {"stream": m["state"]["stream"]["stream_state"], "rowId": row_id}}}',
    },
    argv: (script) => ["airbyte", "--", script],
  },
  singer: {
    lines(push) {
      push(`{"type": "SCHEMA", "stream": "users", "schema": {"type": "object"}, "key_properties": ["id"]}`);
      for (let i = 0; i < RECORDS; i++) {
        push(`{"type": "RECORD", "stream": "users", "record": ${recordData(i)}, "time_extracted": "2024-05-01T12:00:00.000000Z"}`);
        if (i % STATE_EVERY === STATE_EVERY - 1) push(`{"type": "STATE", "value": {"bookmarks": {"users": {"updated_at": ${i}}}}}`);
      }
    },
    script: (file) => `#!/bin/sh\nexec cat ${JSON.stringify(file)}\n`,
    node: {
      doc: "m.record",
      state: "{ bindingStateV1: { users: { bookmark: JSON.stringify(m.value.bookmarks.users), rowId } } }",
    },
    python: {
      doc: 'm["record"]',
      state: '{"bindingStateV1": {"users": {"bookmark": json.dumps(m["value"]["bookmarks"]["users"]), "rowId": row_id}}}',
    },
    argv: (script, dir) => ["singer", "--no-about", "--catalog-arg", "catalog", "--catalog", path.join(dir, "catalog.json"), "--", script],
  },
};

/** The baseline: a plain Node process, JSON.parse and JSON.stringify per line, one write per chunk read. */
const nodeLoop = (file, p) => `import { spawn } from "node:child_process";
const child = spawn("cat", [${JSON.stringify(file)}], { stdio: ["ignore", "pipe", "inherit"] });
let partial = "", rowId = 0;
for await (const chunk of child.stdout) {
  const lines = (partial + chunk.toString("utf8")).split("\\n");
  partial = lines.pop();
  let out = "";
  for (const line of lines) {
    const m = JSON.parse(line);
    if (m.type === "RECORD") {
      const doc = ${p.doc};
      doc._meta = { op: "u", row_id: rowId++ };
      out += JSON.stringify({ captured: { binding: 0, doc } }) + "\\n";
    } else if (m.type === "STATE") {
      out += JSON.stringify({ checkpoint: { state: { updated: ${p.state}, mergePatch: true } } }) + "\\n";
    }
  }
  if (out && !process.stdout.write(out)) await new Promise((r) => process.stdout.once("drain", r));
}
`;

/** The naive Python loop: json.loads and json.dumps per line, written to a buffered stdout. */
const pythonLoop = (file, p) => `import json, subprocess, sys
child = subprocess.Popen(["cat", ${JSON.stringify(file)}], stdout=subprocess.PIPE)
out = sys.stdout
row_id = 0
for line in child.stdout:
    m = json.loads(line)
    t = m.get("type")
    if t == "RECORD":
        doc = ${p.doc}
        doc["_meta"] = {"op": "u", "row_id": row_id}
        row_id += 1
        out.write(json.dumps({"captured": {"binding": 0, "doc": doc}}, separators=(",", ":")) + "\\n")
    elif t == "STATE":
        out.write(json.dumps({"checkpoint": {"state": {"updated": ${p.state}, "mergePatch": True}}}, separators=(",", ":")) + "\\n")
out.flush()
sys.exit(child.wait())
`;

function writeFixture(dir, protocol) {
  const p = PROTOCOLS[protocol];
  const file = path.join(dir, "records.jsonl");
  const lines = [];
  p.lines((line) => lines.push(line));
  const text = lines.join("\n") + "\n";
  writeFileSync(file, text);
  const script = path.join(dir, "program.sh");
  writeFileSync(script, p.script(file));
  chmodSync(script, 0o755);
  writeFileSync(path.join(dir, "catalog.json"), JSON.stringify({ streams: [{ tap_stream_id: "users", stream: "users", schema: { type: "object" }, key_properties: ["id"] }] }));
  const node = path.join(dir, "baseline.mjs");
  writeFileSync(node, nodeLoop(file, p.node));
  const python = path.join(dir, "baseline.py");
  writeFileSync(python, pythonLoop(file, p.python));
  return { file, script, node, python, bytes: Buffer.byteLength(text) };
}

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/**
 * Runs `argv` with stdout into /dev/null and `input` on stdin (kept open: the session ends by
 * itself). Returns its wall time and, where GNU time is installed, the CPU time (user + system)
 * of the process and the children it waited for: steadier than wall time on a shared machine.
 */
export function runToDevNull(argv, input) {
  return new Promise((resolve, reject) => {
    const out = openSync("/dev/null", "w");
    const timeFile = TIME ? path.join(tmpdir(), `flowcap-bench-time-${process.pid}`) : undefined;
    const command = TIME ? [TIME, "-f", "%U %S", "-o", timeFile, ...argv] : argv;
    const started = performance.now();
    const child = spawn(command[0], command.slice(1), { stdio: ["pipe", out, "pipe"], env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } });
    closeSync(out);
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    if (input) child.stdin.write(input);
    else child.stdin.end();
    child.on("close", (code) => {
      const wallMs = performance.now() - started;
      child.stdin.destroy();
      if (code !== 0) return reject(new Error(`${argv.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
      if (!timeFile) return resolve({ wallMs });
      const [user, system] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
      resolve({ wallMs, cpuMs: (user + system) * 1000 });
    });
  });
}

async function shimChildCases(protocol) {
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-bench-"));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  const { file, script, node, python, bytes } = writeFixture(dir, protocol);
  const open = {
    open: {
      capture: {
        name: `bench/${protocol}`,
        config: {},
        bindings: [
          {
            resourceConfig: protocol === "airbyte" ? { stream: "users", syncMode: "incremental" } : { stream: "users", replication_method: "INCREMENTAL", replication_key: "updated_at" },
            resourcePath: ["users"],
            collection: { name: "bench/users", key: ["/id"] },
            stateKey: "users",
          },
        ],
      },
      version: "1",
      state: {},
    },
  };
  const requests = JSON.stringify({ spec: { connectorType: "LOCAL", config: {} } }) + "\n" + JSON.stringify(open) + "\n";
  const name = protocol === "airbyte" ? "Airbyte" : "Singer";
  const label = protocol === "airbyte" ? "flowcap airbyte -- source.sh" : "flowcap singer -- tap.sh";
  return {
    id: `${protocol}-child`,
    title: `${name} shim end to end: a ${protocol === "airbyte" ? "source" : "tap"} process writing ${RECORDS.toLocaleString("en")} RECORD lines (${(bytes / 1e6).toFixed(0)} MB) through pipes`,
    runs: 3,
    baseline: { name: "plain Node process: JSON.parse each line, JSON.stringify captured lines, one write per chunk read", fn: () => runToDevNull([process.execPath, node]) },
    candidates: [
      { name: label, fn: () => runToDevNull([process.execPath, path.join(root, "dist/src/cli/main.js"), ...PROTOCOLS[protocol].argv(script, dir)], requests) },
      { name: "naive Python: json.loads + json.dumps per line", fn: () => runToDevNull(["python3", python]) },
      { name: "ceiling: cat of the same bytes through the same pipes", fn: () => runToDevNull(["sh", "-c", `cat ${JSON.stringify(file)} | cat`]) },
    ],
    relations: [
      [label, "naive Python: json.loads + json.dumps per line"],
      [label, "ceiling: cat of the same bytes through the same pipes"],
    ],
    cleanup,
  };
}

export const airbyteChildCases = () => shimChildCases("airbyte");
export const singerChildCases = () => shimChildCases("singer");
