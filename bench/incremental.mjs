// The resource layer's record path: 1,000,000 documents through an incremental resource
// (fetchChanges yielding documents and cursors, the layer checkpointing them and dropping what an
// inclusive cursor returns twice) against the same documents through a raw defineResource
// generator yielding documents and checkpoints, and against the runtime's floor (task.captured in
// a plain loop, no generator at all).
import { PassThrough, Writable } from "node:stream";
import { defineConnector, defineIncrementalResource, defineResource, serve } from "../dist/src/public/index.js";
import { sink } from "./captured.mjs";

const DOCS = 1_000_000;
const PER_CHECKPOINT = 1000;
const doc = (i) => ({ id: i, name: `user ${i}`, email: `u${i}@example.com`, active: i % 2 === 0, score: i * 1.5, tags: ["a", "b"] });
const schema = { type: "object", properties: { id: { type: "integer" } }, required: ["id"] };

const openRequest = {
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

/** Serves `connector` for one session into a counting sink; `stdin` is ended by whoever decides the session is over. */
async function run(connector, stdin = new PassThrough()) {
  const { stream } = sink();
  stdin.write(JSON.stringify(openRequest) + "\n");
  const code = await serve(connector, { stdin, stdout: stream, stderr: new Writable({ write: (_c, _e, cb) => cb() }), env: { LOG_LEVEL: "warn" } });
  if (code !== 0) throw new Error(`exit ${code}`);
}

function incremental(cursorField) {
  const stdin = new PassThrough();
  const connector = defineConnector({
    documentationUrl: "x",
    config: { type: "object" },
    resources: [
      defineIncrementalResource({
        name: "r",
        key: ["/id"],
        schema,
        initialCursor: 0,
        ...(cursorField ? { cursorField } : {}),
        async *fetchChanges(cursor) {
          if (cursor >= DOCS) {
            stdin.end(); // all sent: end the session as Flow would
            return;
          }
          // Inclusive, as the contract asks: the document at the cursor comes again (and is dropped).
          const from = cursor === 0 ? 1 : cursor;
          for (let i = from; i <= DOCS; i++) {
            yield doc(i);
            if (i % PER_CHECKPOINT === 0) yield i;
          }
        },
      }),
    ],
  });
  return () => run(connector, stdin);
}

export async function incrementalCases() {
  const raw = defineConnector({
    documentationUrl: "x",
    config: { type: "object" },
    resources: [
      defineResource({
        name: "r",
        key: ["/id"],
        schema,
        initialState: { n: 0 },
        async *capture(ctx) {
          for (let i = 1; i <= DOCS; i++) {
            yield doc(i);
            if (i % PER_CHECKPOINT === 0) yield ctx.checkpoint({ n: i });
          }
        },
      }),
    ],
  });
  const floor = {
    spec: () => ({ configSchema: {}, resourceConfigSchema: {}, documentationUrl: "x" }),
    discover: () => ({ bindings: [] }),
    validate: () => ({ bindings: [] }),
    open: () => ({
      capture: async (task) => {
        for (let i = 1; i <= DOCS; i++) {
          task.captured(0, doc(i));
          if (i % PER_CHECKPOINT === 0) await task.checkpoint({ bindingStateV1: { r: { n: i } } });
        }
      },
    }),
  };
  return {
    id: "incremental",
    title: `${DOCS.toLocaleString("en")} documents through a resource, a checkpoint every ${PER_CHECKPOINT.toLocaleString("en")}`,
    runs: 5,
    // In-process cases: CPU time, which the other processes of a shared machine do not inflate
    // (wall time on the 2-core machine varied by 40% from run to run for the same case).
    clock: "cpu",
    baseline: {
      name: "raw defineResource generator (documents + ctx.checkpoint)",
      fn: () => run(raw),
    },
    candidates: [
      { name: "defineIncrementalResource with cursorField (fetchChanges: documents + cursor, boundary dedup)", fn: () => incremental("/id")() },
      { name: "defineIncrementalResource without cursorField", fn: () => incremental(undefined)() },
      { name: "runtime floor: task.captured in a plain loop, no generator", fn: () => run(floor) },
    ],
  };
}
