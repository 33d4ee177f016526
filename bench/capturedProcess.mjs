// One side of bench/captured.mjs, run as its own process with stdout a pipe the bench reads:
// writes DOCS small `captured` documents, a checkpoint every 1,000, `plain` (a loop writing each
// JSON.stringify'd line, waiting for 'drain'), `batched` (the same, one write per checkpoint) or through `serve` (task.captured + task.checkpoint),
// and reports on stderr how long that took, from the first document to the last byte flushed.
import { serve } from "../dist/src/runtime/index.js";

const [mode, count] = process.argv.slice(2);
const DOCS = Number(count);
const doc = (i) => ({ id: i, name: `user ${i}`, email: `u${i}@example.com`, active: i % 2 === 0, score: i * 1.5, tags: ["a", "b"] });
const write = (line) => (process.stdout.write(line) ? undefined : new Promise((r) => process.stdout.once("drain", r)));
const flushed = () => new Promise((r) => process.stdout.write("", r));
let started = 0;

if (mode === "plain") {
  started = performance.now();
  for (let i = 0; i < DOCS; i++) {
    const w = write(JSON.stringify({ captured: { binding: 0, doc: doc(i) } }) + "\n");
    if (w) await w;
    if (i % 1000 === 999) {
      const c = write(JSON.stringify({ checkpoint: { state: { updated: { n: i }, mergePatch: true } } }) + "\n");
      if (c) await c;
    }
  }
  await flushed();
} else if (mode === "batched") {
  // The same loop, gathering each checkpoint's lines into one string and writing that once.
  started = performance.now();
  let out = "";
  for (let i = 0; i < DOCS; i++) {
    out += JSON.stringify({ captured: { binding: 0, doc: doc(i) } }) + "\n";
    if (i % 1000 === 999) {
      out += JSON.stringify({ checkpoint: { state: { updated: { n: i }, mergePatch: true } } }) + "\n";
      const w = write(out);
      out = "";
      if (w) await w;
    }
  }
  await flushed();
} else {
  const connector = {
    spec: () => ({ configSchema: {}, resourceConfigSchema: {}, documentationUrl: "x" }),
    discover: () => ({ bindings: [] }),
    validate: () => ({ bindings: [] }),
    open: () => ({
      capture: async (task) => {
        started = performance.now();
        for (let i = 0; i < DOCS; i++) {
          task.captured(0, doc(i));
          if (i % 1000 === 999) await task.checkpoint({ n: i });
        }
      },
    }),
  };
  const code = await serve(connector, { stdin: process.stdin, stdout: process.stdout, env: { LOG_LEVEL: "warn" } });
  if (code !== 0) process.exit(code);
  await flushed();
}
process.stderr.write(JSON.stringify({ ms: performance.now() - started }) + "\n");
process.exit(0);
