// Writing `captured` lines: the SDK's record path (serve() → task.captured → spool → writer)
// against a plain Node loop that JSON.stringify()s each envelope and writes it, each in a process
// of its own whose stdout is a pipe this one reads at full speed (bench/capturedProcess.mjs).
// Also the helpers the in-process benchmarks share (a counting sink, feeding a shim's session).
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Writable } from "node:stream";
import { LineSplitter } from "../dist/src/protocol/index.js";

const DOCS = 1_000_000;
const here = path.dirname(fileURLToPath(import.meta.url));

export function sink() {
  let bytes = 0;
  const stream = new Writable({
    highWaterMark: 1 << 20,
    writev(chunks, cb) {
      for (const c of chunks) bytes += c.chunk.length;
      cb();
    },
    write(chunk, _enc, cb) {
      bytes += chunk.length;
      cb();
    },
  });
  return { stream, bytes: () => bytes };
}

/**
 * Feeds in-memory stdout `chunks` to a shim's line sink exactly as its child reader does: each
 * chunk in a buffer of its own (a pipe's read allocates one; the sink may write over it), split by
 * LineSplitter into batches, waiting whenever the sink returns a promise.
 */
export async function feedLines(chunks, lineSink) {
  const splitter = new LineSplitter();
  const batches = [];
  for (const chunk of chunks) {
    splitter.pushBatch(Buffer.from(chunk), (batch) => batches.push(batch));
    for (const batch of batches.splice(0)) {
      const wait = lineSink.lines(batch);
      if (wait !== undefined) await wait;
    }
  }
}

export async function writeAll(stream, line) {
  if (!stream.write(line)) await new Promise((r) => stream.once("drain", r));
}

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/**
 * Runs bench/capturedProcess.mjs in `mode` with stdout a pipe this process reads at full speed
 * (counting bytes), and returns the time it reports (its writing, without Node's start-up) and,
 * with GNU time, the CPU time of the whole process.
 */
function runWriter(mode, docs, open) {
  return new Promise((resolve, reject) => {
    const argv = [process.execPath, path.join(here, "capturedProcess.mjs"), mode, String(docs)];
    const timeFile = TIME ? path.join(tmpdir(), `flowcap-bench-time-${process.pid}`) : undefined;
    const command = TIME ? [TIME, "-f", "%U %S", "-o", timeFile, ...argv] : argv;
    const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH, LOG_LEVEL: "warn" } });
    let bytes = 0;
    let stderr = "";
    child.stdout.on("data", (c) => (bytes += c.length));
    child.stderr.on("data", (c) => (stderr += c));
    if (mode === "serve") child.stdin.end(JSON.stringify(open) + "\n");
    else child.stdin.end();
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${mode} exited ${code}: ${stderr.slice(-500)}`));
      if (bytes < docs * 80) return reject(new Error(`${mode} wrote only ${bytes} bytes`));
      const wallMs = JSON.parse(stderr.trim().split("\n").at(-1)).ms;
      if (!timeFile) return resolve({ wallMs });
      const [user, system] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
      resolve({ wallMs, cpuMs: (user + system) * 1000 });
    });
  });
}

export async function capturedCases() {
  const open = {
    open: {
      capture: {
        name: "bench/c",
        config: {},
        bindings: [{ resourceConfig: { name: "r" }, resourcePath: ["r"], collection: { name: "bench/r", key: ["/id"] }, stateKey: "r" }],
      },
      version: "1",
      state: {},
    },
  };
  return {
    id: "captured",
    title: `Write ${DOCS.toLocaleString("en")} small captured documents, a checkpoint every 1,000, to a pipe read at full speed`,
    baseline: { name: "plain loop: JSON.stringify envelope + write each", fn: () => runWriter("plain", DOCS, open) },
    candidates: [
      { name: "flowcap serve(): task.captured + task.checkpoint", fn: () => runWriter("serve", DOCS, open) },
      { name: "plain loop, batched: JSON.stringify envelopes, one write per checkpoint", fn: () => runWriter("batched", DOCS, open) },
    ],
    relations: [["flowcap serve(): task.captured + task.checkpoint", "plain loop, batched: JSON.stringify envelopes, one write per checkpoint"]],
    report(rows) {
      for (const row of rows.filter((r) => r.medianMs !== undefined)) process.stdout.write(`\n${row.name}: ${Math.round(DOCS / (row.medianMs / 1000)).toLocaleString("en")} documents a second`);
      process.stdout.write("\n");
    },
  };
}
