// Splitting and parsing a large NDJSON stream: ndjson (the field's usual choice) against
// flowcap's LineSplitter. Both read the same chunks as a pipe would deliver them.
import { Readable } from "node:stream";
import ndjson from "ndjson";
import { LineSplitter } from "../dist/src/protocol/index.js";

const LINES = 500_000;

function makeChunks() {
  const lines = [];
  for (let i = 0; i < LINES; i++) {
    lines.push(JSON.stringify({ type: "RECORD", record: { stream: "users", emitted_at: 1700000000000 + i, data: { id: i, name: `user ${i}`, email: `u${i}@example.com`, active: i % 2 === 0, score: i * 1.5 } } }));
  }
  const all = Buffer.from(lines.join("\n") + "\n");
  const chunks = [];
  for (let i = 0; i < all.length; i += 65536) chunks.push(all.subarray(i, i + 65536));
  return chunks;
}

export async function lineCases() {
  const chunks = makeChunks();
  return {
    id: "lines",
    title: `Read ${LINES.toLocaleString("en")} NDJSON lines (Airbyte RECORDs) from 64 KiB chunks`,
    baseline: {
      name: "ndjson.parse() stream",
      fn: () =>
        new Promise((resolve, reject) => {
          let n = 0;
          Readable.from(chunks)
            .pipe(ndjson.parse())
            .on("data", () => n++)
            .on("end", () => (n === LINES ? resolve() : reject(new Error(`got ${n}`))))
            .on("error", reject);
        }),
    },
    candidates: [
      {
        name: "LineSplitter + JSON.parse",
        fn: async () => {
          const s = new LineSplitter();
          let n = 0;
          for await (const chunk of Readable.from(chunks)) s.push(chunk, (line) => (JSON.parse(line.toString()), n++));
          if (n !== LINES) throw new Error(`got ${n}`);
        },
      },
      {
        name: "LineSplitter, lines as text only",
        fn: async () => {
          const s = new LineSplitter();
          let n = 0;
          for await (const chunk of Readable.from(chunks)) s.push(chunk, (line) => (line.toString(), n++));
          if (n !== LINES) throw new Error(`got ${n}`);
        },
      },
    ],
  };
}
