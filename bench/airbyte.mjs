// The Airbyte shim's record path: 1,000,000 Airbyte RECORD lines (a STATE every 10,000) read
// from the same in-memory stdout chunks, turned into Flow `captured` and `checkpoint` lines and
// written to the same sink. The baseline is the plain Node loop: JSON.parse each line, add
// `_meta`, JSON.stringify a `captured` message. The shim runs as it does in production
// (serve() → open → read session → task.capturedBytes → spool → writer), minus the child process:
// its source hands over the chunks a child's stdout would.
import { PassThrough, Writable } from "node:stream";
import { LineSplitter } from "../dist/src/protocol/index.js";
import { serve } from "../dist/src/runtime/index.js";
import { createAirbyteConnector } from "../dist/src/shims/airbyte/index.js";
import { feedLines, sink, writeAll } from "./captured.mjs";

const RECORDS = 1_000_000;
const STATE_EVERY = 10_000;
const CHUNK_BYTES = 64 * 1024;

/** The stdout of a source: RECORD lines as Python's json.dumps writes them, and STREAM states. */
function sourceOutput() {
  const lines = [];
  for (let i = 0; i < RECORDS; i++) {
    const data = `{"id": ${i}, "email": "user${i}@example.com", "name": "User Number ${i}", "active": ${i % 3 !== 0}, "score": ${(i * 1.25).toFixed(2)}, "address": {"city": "Lisbon", "zip": "1000-${i % 1000}"}, "tags": ["a", "b", "c"], "updated_at": "2024-05-01T12:${String(i % 60).padStart(2, "0")}:00Z"}`;
    lines.push(`{"type": "RECORD", "record": {"stream": "users", "data": ${data}, "emitted_at": 1714564800000}}`);
    if (i % STATE_EVERY === STATE_EVERY - 1) lines.push(`{"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "users"}, "stream_state": {"updated_at": ${i}}}}}`);
  }
  const all = Buffer.from(lines.join("\n") + "\n");
  const chunks = [];
  for (let o = 0; o < all.length; o += CHUNK_BYTES) chunks.push(all.subarray(o, o + CHUNK_BYTES));
  return { chunks, bytes: all.length };
}

export async function airbyteCases() {
  const { chunks, bytes } = sourceOutput();
  const open = {
    open: {
      capture: {
        name: "bench/airbyte",
        config: {},
        bindings: [{ resourceConfig: { stream: "users", syncMode: "incremental" }, resourcePath: ["users"], collection: { name: "bench/users", key: ["/id"], writeSchema: { type: "object" } }, stateKey: "users" }],
      },
      version: "1",
      state: {},
    },
  };
  /** An Airbyte source whose stdout is `chunks`, read line by line exactly as childSource reads a child's. */
  const memorySource = {
    label: "memory",
    spec: async () => ({ documentationUrl: "https://example.com", connectionSpecification: { type: "object" } }),
    check: async () => ({ status: "SUCCEEDED" }),
    discover: async () => ({ streams: [] }),
    async read(_config, _catalog, _state, _ctx, sinkOfLines) {
      await feedLines(chunks, sinkOfLines);
      return "completed";
    },
  };
  return {
    id: "airbyte",
    title: `Airbyte shim: ${RECORDS.toLocaleString("en")} RECORD lines (${(bytes / 1e6).toFixed(0)} MB, a STATE every ${STATE_EVERY.toLocaleString("en")}) to Flow captured + checkpoint lines`,
    runs: 5,
    baseline: {
      name: "plain Node loop: JSON.parse each line, JSON.stringify a captured message",
      fn: async () => {
        const out = sink();
        const splitter = new LineSplitter();
        let rowId = 0;
        for (const chunk of chunks) {
          const batch = [];
          splitter.push(chunk, (line) => batch.push(line));
          for (const line of batch) {
            const message = JSON.parse(line.toString("utf8"));
            if (message.type === "RECORD") {
              const doc = message.record.data;
              doc._meta = { op: "u", row_id: rowId++ };
              await writeAll(out.stream, JSON.stringify({ captured: { binding: 0, doc } }) + "\n");
            } else if (message.type === "STATE") {
              const updated = { bindingStateV1: { users: { stream: message.state.stream.stream_state, rowId } } };
              await writeAll(out.stream, JSON.stringify({ checkpoint: { state: { updated, mergePatch: true } } }) + "\n");
            }
          }
        }
      },
    },
    candidates: [
      {
        name: "flowcap airbyte shim (serve → read session → capturedBytes)",
        fn: async () => {
          const out = sink();
          const stdin = new PassThrough();
          stdin.write(JSON.stringify(open) + "\n"); // stdin stays open: the read ends the session
          const code = await serve(createAirbyteConnector(memorySource), { stdin, stdout: out.stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), env: { LOG_LEVEL: "warn" } });
          if (code !== 0) throw new Error(`exit ${code}`);
          if (out.bytes() < bytes * 0.8) throw new Error(`the shim wrote only ${out.bytes()} bytes`);
        },
      },
      {
        // airbyte-to-flow's rules: a collection declaring a date-time has every record parsed to
        // normalize it (here it is RFC 3339 already, so the record's bytes are still what is written).
        name: "with --patches, updated_at declared date-time (each record parsed)",
        fn: async () => {
          const out = sink();
          const stdin = new PassThrough();
          const binding = open.open.capture.bindings[0];
          const dated = { ...binding, collection: { ...binding.collection, writeSchema: { type: "object", properties: { updated_at: { type: "string", format: "date-time" } } } } };
          stdin.write(JSON.stringify({ open: { ...open.open, capture: { ...open.open.capture, bindings: [dated] } } }) + "\n");
          const patches = { dir: "bench", schemaNormalizations: [], keys: new Map(), documentPatches: new Map(), normalizations: new Map() };
          const code = await serve(createAirbyteConnector(memorySource, { patches }), { stdin, stdout: out.stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), env: { LOG_LEVEL: "warn" } });
          if (code !== 0) throw new Error(`exit ${code}`);
          if (out.bytes() < bytes * 0.8) throw new Error(`the shim wrote only ${out.bytes()} bytes`);
        },
      },
    ],
  };
}
