// Writing `captured` lines: the SDK's record path (serve() → task.captured → spool → writer)
// against a plain Node loop that JSON.stringify()s each envelope and writes it.
import { PassThrough, Writable } from "node:stream";
import { LineSplitter } from "../dist/src/protocol/index.js";
import { serve } from "../dist/src/runtime/index.js";

const DOCS = 500_000;
const doc = (i) => ({ id: i, name: `user ${i}`, email: `u${i}@example.com`, active: i % 2 === 0, score: i * 1.5, tags: ["a", "b"] });

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
    title: `Write ${DOCS.toLocaleString("en")} captured documents, a checkpoint every 1,000`,
    baseline: {
      name: "plain loop: JSON.stringify envelope + write each",
      fn: async () => {
        const { stream } = sink();
        for (let i = 0; i < DOCS; i++) {
          await writeAll(stream, JSON.stringify({ captured: { binding: 0, doc: doc(i) } }) + "\n");
          if (i % 1000 === 999) await writeAll(stream, JSON.stringify({ checkpoint: { state: { updated: { n: i }, mergePatch: true } } }) + "\n");
        }
      },
    },
    candidates: [
      {
        name: "flowcap serve(): task.captured + task.checkpoint",
        fn: async () => {
          const { stream } = sink();
          const stdin = new PassThrough();
          const connector = {
            spec: () => ({ configSchema: {}, resourceConfigSchema: {}, documentationUrl: "x" }),
            discover: () => ({ bindings: [] }),
            validate: () => ({ bindings: [] }),
            open: () => ({
              capture: async (task) => {
                for (let i = 0; i < DOCS; i++) {
                  task.captured(0, doc(i));
                  if (i % 1000 === 999) await task.checkpoint({ n: i });
                }
              },
            }),
          };
          stdin.end(JSON.stringify(open) + "\n");
          const code = await serve(connector, { stdin, stdout: stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), env: { LOG_LEVEL: "warn" } });
          if (code !== 0) throw new Error(`exit ${code}`);
        },
      },
    ],
  };
}
