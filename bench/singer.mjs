// The Singer shim's record path: 1,000,000 Singer RECORD lines (a STATE every 10,000) read from
// the same in-memory stdout chunks, turned into Flow `captured` and `checkpoint` lines and
// written to the same sink. The baseline is the plain Node loop: JSON.parse each line, add
// `_meta`, JSON.stringify a `captured` message. The shim runs as in production (serve() → open →
// discovery → sync session → task.capturedBytes → spool → writer), minus the child process: its
// tap hands over the chunks a child's stdout would. A second candidate is a versioned full-table
// stream (ACTIVATE_VERSION at the end), where the shim also tracks every record's key.
import { PassThrough, Writable } from "node:stream";
import { LineSplitter } from "../dist/src/protocol/index.js";
import { serve } from "../dist/src/runtime/index.js";
import { createSingerConnector } from "../dist/src/shims/singer/index.js";
import { feedLines, sink, writeAll } from "./captured.mjs";

const RECORDS = 1_000_000;
const STATE_EVERY = 10_000;
const CHUNK_BYTES = 64 * 1024;

/** The stdout of a tap, as singer-python writes it (json.dumps spacing). */
function tapOutput(versioned) {
  const lines = [`{"type": "SCHEMA", "stream": "users", "schema": {"type": "object"}, "key_properties": ["id"]}`];
  for (let i = 0; i < RECORDS; i++) {
    const record = `{"id": ${i}, "email": "user${i}@example.com", "name": "User Number ${i}", "active": ${i % 3 !== 0}, "score": ${(i * 1.25).toFixed(2)}, "address": {"city": "Lisbon", "zip": "1000-${i % 1000}"}, "tags": ["a", "b", "c"], "updated_at": "2024-05-01T12:${String(i % 60).padStart(2, "0")}:00Z"}`;
    lines.push(`{"type": "RECORD", "stream": "users", "record": ${record}${versioned ? ', "version": 1714564800000' : ""}, "time_extracted": "2024-05-01T12:00:00.000000Z"}`);
    if (i % STATE_EVERY === STATE_EVERY - 1) lines.push(`{"type": "STATE", "value": {"bookmarks": {"users": {"updated_at": ${i}}}}}`);
  }
  if (versioned) lines.push(`{"type": "ACTIVATE_VERSION", "stream": "users", "version": 1714564800000}`);
  const all = Buffer.from(lines.join("\n") + "\n");
  const chunks = [];
  for (let o = 0; o < all.length; o += CHUNK_BYTES) chunks.push(all.subarray(o, o + CHUNK_BYTES));
  return { chunks, bytes: all.length };
}

/** A Singer tap whose stdout is `chunks`, read line by line exactly as childTap reads a child's. */
function memoryTap(chunks) {
  return {
    label: "memory",
    about: async () => undefined,
    help: async () => undefined,
    discover: async () => ({ streams: [{ tap_stream_id: "users", stream: "users", schema: { type: "object" }, key_properties: ["id"] }] }),
    async sync(_config, _catalog, _state, _ctx, lines) {
      await feedLines(chunks, lines);
      return "completed";
    },
  };
}

async function runShim(chunks, bytes, resourceConfig) {
  const out = sink();
  const stdin = new PassThrough();
  const open = {
    open: {
      capture: { name: "bench/singer", config: {}, bindings: [{ resourceConfig, resourcePath: ["users"], collection: { name: "bench/users", key: ["/id"], writeSchema: { type: "object" } }, stateKey: "users" }] },
      version: "1",
      state: {},
    },
  };
  stdin.write(JSON.stringify(open) + "\n"); // stdin stays open: the sync ends the session
  // Every key tracked, as measured in BENCHMARKS.md: the default limit (500,000) is below RECORDS.
  const code = await serve(createSingerConnector(memoryTap(chunks), { catalogArgument: "catalog", maxTrackedKeys: RECORDS }), { stdin, stdout: out.stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), env: { LOG_LEVEL: "warn" } });
  if (code !== 0) throw new Error(`exit ${code}`);
  if (out.bytes() < bytes * 0.8) throw new Error(`the shim wrote only ${out.bytes()} bytes`);
}

export async function singerCases() {
  const plain = tapOutput(false);
  const versioned = tapOutput(true);
  return {
    id: "singer",
    title: `Singer shim: ${RECORDS.toLocaleString("en")} RECORD lines (${(plain.bytes / 1e6).toFixed(0)} MB, a STATE every ${STATE_EVERY.toLocaleString("en")}) to Flow captured + checkpoint lines`,
    runs: 5,
    baseline: {
      name: "plain Node loop: JSON.parse each line, JSON.stringify a captured message",
      fn: async () => {
        const out = sink();
        const splitter = new LineSplitter();
        let rowId = 0;
        for (const chunk of plain.chunks) {
          const batch = [];
          splitter.push(chunk, (line) => batch.push(line));
          for (const line of batch) {
            const message = JSON.parse(line.toString("utf8"));
            if (message.type === "RECORD") {
              const doc = message.record;
              doc._meta = { op: "u", row_id: rowId++ };
              await writeAll(out.stream, JSON.stringify({ captured: { binding: 0, doc } }) + "\n");
            } else if (message.type === "STATE") {
              const updated = { bindingStateV1: { users: { bookmark: JSON.stringify(message.value.bookmarks.users), rowId } } };
              await writeAll(out.stream, JSON.stringify({ checkpoint: { state: { updated, mergePatch: true } } }) + "\n");
            }
          }
        }
      },
    },
    candidates: [
      {
        name: "flowcap singer shim, incremental stream (serve → sync session → capturedBytes)",
        fn: () => runShim(plain.chunks, plain.bytes, { stream: "users", replication_method: "INCREMENTAL", replication_key: "updated_at" }),
      },
      {
        name: "flowcap singer shim, versioned full-table stream (every key tracked for ACTIVATE_VERSION)",
        fn: () => runShim(versioned.chunks, versioned.bytes, { stream: "users", replication_method: "FULL_TABLE" }),
      },
    ],
  };
}
