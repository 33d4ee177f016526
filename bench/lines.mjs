// Splitting and parsing a large NDJSON stream: split2 (the field's usual text splitter) and ndjson
// (its usual NDJSON parser) against flowcap's LineSplitter. All read the same chunks as a pipe
// would deliver them. The baseline is split2's lines as text; the parsing cases are compared with
// each other too (LineSplitter + JSON.parse against split2(JSON.parse) and ndjson.parse()).
import { Readable } from "node:stream";
import ndjson from "ndjson";
import split2 from "split2";
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

/** Pipes the chunks through a transform stream and counts what comes out. */
const throughStream = (chunks, transform) =>
  new Promise((resolve, reject) => {
    let n = 0;
    Readable.from(chunks)
      .pipe(transform)
      .on("data", () => n++)
      .on("end", () => (n === LINES ? resolve() : reject(new Error(`got ${n}`))))
      .on("error", reject);
  });

async function splitter(chunks, onLine) {
  const s = new LineSplitter();
  let n = 0;
  for await (const chunk of Readable.from(chunks)) s.push(chunk, (line) => (onLine(line), n++));
  if (n !== LINES) throw new Error(`got ${n}`);
}

export async function lineCases() {
  const chunks = makeChunks();
  const names = {
    split2Parse: "split2(JSON.parse) stream",
    ndjson: "ndjson.parse() stream",
    parse: "LineSplitter + JSON.parse",
  };
  return {
    id: "lines",
    title: `Read ${LINES.toLocaleString("en")} NDJSON lines (Airbyte RECORDs) from 64 KiB chunks`,
    baseline: { name: "split2() stream, lines as text", fn: () => throughStream(chunks, split2()) },
    candidates: [
      { name: "LineSplitter, lines as text only", fn: () => splitter(chunks, (line) => line.toString()) },
      { name: names.split2Parse, fn: () => throughStream(chunks, split2(JSON.parse)) },
      { name: names.ndjson, fn: () => throughStream(chunks, ndjson.parse()) },
      { name: names.parse, fn: () => splitter(chunks, (line) => JSON.parse(line.toString())) },
    ],
    relations: [
      [names.parse, names.split2Parse],
      [names.parse, names.ndjson],
    ],
  };
}
