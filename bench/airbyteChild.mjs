// The Airbyte shim end to end, with real processes and pipes: `flowcap airbyte -- <source>`
// where the source is a shell script that `cat`s 1,000,000 RECORD lines (so the source itself
// costs nearly nothing), Flow's side reading into /dev/null. The baseline is a plain Node
// process that reads the same `cat` through a pipe, JSON.parses each line and writes a
// JSON.stringify'd captured message. Both include starting Node; the shim also answers the
// internal spec (one more run of the script) before the read.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, writeFileSync, chmodSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const RECORDS = 1_000_000;
const STATE_EVERY = 10_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function writeFixture(dir) {
  const file = path.join(dir, "records.jsonl");
  const lines = [];
  for (let i = 0; i < RECORDS; i++) {
    const data = `{"id": ${i}, "email": "user${i}@example.com", "name": "User Number ${i}", "active": ${i % 3 !== 0}, "score": ${(i * 1.25).toFixed(2)}, "address": {"city": "Lisbon", "zip": "1000-${i % 1000}"}, "tags": ["a", "b", "c"], "updated_at": "2024-05-01T12:${String(i % 60).padStart(2, "0")}:00Z"}`;
    lines.push(`{"type": "RECORD", "record": {"stream": "users", "data": ${data}, "emitted_at": 1714564800000}}`);
    if (i % STATE_EVERY === STATE_EVERY - 1) lines.push(`{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": ${i}}}}}`);
  }
  writeFileSync(file, lines.join("\n") + "\n");
  const source = path.join(dir, "source.sh");
  writeFileSync(
    source,
    `#!/bin/sh\nif [ "$1" = spec ]; then echo '{"type":"SPEC","spec":{"documentationUrl":"https://example.com","connectionSpecification":{"type":"object"}}}'; else exec cat ${JSON.stringify(file)}; fi\n`,
  );
  chmodSync(source, 0o755);
  const baseline = path.join(dir, "baseline.mjs");
  writeFileSync(
    baseline,
    `import { spawn } from "node:child_process";
const child = spawn("cat", [${JSON.stringify(file)}], { stdio: ["ignore", "pipe", "inherit"] });
let partial = "", rowId = 0;
const write = (s) => (process.stdout.write(s) ? undefined : new Promise((r) => process.stdout.once("drain", r)));
for await (const chunk of child.stdout) {
  const lines = (partial + chunk.toString("utf8")).split("\\n");
  partial = lines.pop();
  for (const line of lines) {
    const m = JSON.parse(line);
    if (m.type === "RECORD") {
      const doc = m.record.data;
      doc._meta = { op: "u", row_id: rowId++ };
      const w = write(JSON.stringify({ captured: { binding: 0, doc } }) + "\\n");
      if (w) await w;
    } else if (m.type === "STATE") {
      const w = write(JSON.stringify({ checkpoint: { state: { updated: { bindingStateV1: { users: { stream: m.state.stream.stream_state, rowId } } }, mergePatch: true } } }) + "\\n");
      if (w) await w;
    }
  }
}
`,
  );
  return { source, baseline, bytes: lines.reduce((n, l) => n + l.length + 1, 0) };
}

function run(argv, input) {
  return new Promise((resolve, reject) => {
    const out = openSync("/dev/null", "w");
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", out, "pipe"], env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } });
    closeSync(out);
    let stderr = "";
    child.stderr.on("data", (c) => (stderr += c));
    if (input) child.stdin.write(input); // stdin stays open: the read ends the session
    else child.stdin.end();
    child.on("close", (code) => {
      child.stdin.destroy();
      code === 0 ? resolve() : reject(new Error(`${argv.join(" ")} exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

export async function airbyteChildCases() {
  const dir = mkdtempSync(path.join(tmpdir(), "flowcap-bench-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const { source, baseline, bytes } = writeFixture(dir);
  const open = {
    open: {
      capture: {
        name: "bench/airbyte",
        config: {},
        bindings: [{ resourceConfig: { stream: "users", syncMode: "incremental" }, resourcePath: ["users"], collection: { name: "bench/users", key: ["/id"] }, stateKey: "users" }],
      },
      version: "1",
      state: {},
    },
  };
  const requests = JSON.stringify({ spec: { connectorType: "LOCAL", config: {} } }) + "\n" + JSON.stringify(open) + "\n";
  return {
    id: "airbyte-child",
    title: `Airbyte shim end to end: a source process writing ${RECORDS.toLocaleString("en")} RECORD lines (${(bytes / 1e6).toFixed(0)} MB) through pipes`,
    runs: 3,
    baseline: { name: "plain Node process: JSON.parse each line, JSON.stringify a captured message", fn: () => run([process.execPath, baseline]) },
    candidates: [{ name: "flowcap airbyte -- source.sh", fn: () => run([process.execPath, path.join(root, "dist/src/cli/main.js"), "airbyte", "--", source], requests) }],
  };
}
