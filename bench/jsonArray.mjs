// Streaming the items of a large JSON array inside an envelope (`{"data": [...], "next": ...}`,
// the shape of most API list responses) from 64 KiB chunks, as an HTTP body arrives: the naive
// `await res.json()` (buffer the body, JSON.parse it whole) against flowcap's JsonArraySplitter
// and the two well-kept streaming JSON parsers, stream-json and @streamparser/json.
// `memoryCases` measures the extra heap each one holds at its peak (sampled every 1,000 items).
import { Readable } from "node:stream";
import { JSONParser } from "@streamparser/json";
import streamJsonParser from "stream-json";
import { pick } from "stream-json/filters/pick.js";
import { streamArray } from "stream-json/streamers/stream-array.js";
import { JsonArraySplitter } from "../dist/src/sdk/http/jsonArrayStream.js";

const ITEMS = 200_000;

/** GitHub-issue-like items (about 400 bytes each): strings, numbers, nested objects, an array, escapes. */
function makeChunks() {
  const items = [];
  for (let i = 0; i < ITEMS; i++) {
    items.push({
      id: 1_000_000 + i,
      number: i,
      title: `Issue ${i}: "quoted" title with \\ backslash and ünïcödé`,
      state: i % 3 === 0 ? "closed" : "open",
      user: { login: `user${i % 997}`, id: i % 997, site_admin: false },
      labels: [{ name: "bug", color: "d73a4a" }, { name: `area/${i % 17}` }],
      comments: i % 23,
      created_at: "2024-01-02T03:04:05Z",
      updated_at: "2024-06-07T08:09:10Z",
      body: i % 5 === 0 ? null : `Body of issue ${i}.\nSecond line, with a comma, a ] and a }.`,
      score: i * 0.25,
    });
  }
  const all = Buffer.from(JSON.stringify({ total_count: ITEMS, data: items, next_cursor: "abc" }));
  const chunks = [];
  for (let i = 0; i < all.length; i += 65536) chunks.push(all.subarray(i, i + 65536));
  return { chunks, bytes: all.length };
}

const check = (n) => {
  if (n !== ITEMS) throw new Error(`got ${n} items`);
};

/** Each case consumes every item (reads one field, as a connector would) and calls `sample` every 1,000. */
function cases(chunks) {
  return {
    naive: async (sample = () => {}) => {
      const whole = Buffer.concat(chunks).toString("utf8");
      const body = JSON.parse(whole);
      let n = 0;
      for (const item of body.data) {
        if (item.id < 0) throw new Error();
        if (++n % 1000 === 0) sample();
      }
      check(n);
    },
    splitter: async (sample = () => {}) => {
      const splitter = new JsonArraySplitter({ pointer: "/data" });
      let n = 0;
      for await (const chunk of Readable.from(chunks)) {
        const items = splitter.push(chunk);
        for (let k = 0; k < items.length; k++) {
          if (items[k].id < 0) throw new Error();
          if (++n % 1000 === 0) sample();
        }
      }
      splitter.end();
      if (splitter.remainder.next_cursor !== "abc") throw new Error("no remainder");
      check(n);
    },
    streamparser: async (sample = () => {}) => {
      const p = new JSONParser({ paths: ["$.data.*"], keepStack: false });
      let n = 0;
      p.onValue = ({ value }) => {
        if (value.id < 0) throw new Error();
        if (++n % 1000 === 0) sample();
      };
      for await (const chunk of Readable.from(chunks)) p.write(chunk);
      check(n);
    },
    streamJson: (sample = () => {}) =>
      new Promise((resolve, reject) => {
        let n = 0;
        Readable.from(chunks)
          .pipe(streamJsonParser())
          .pipe(pick.asStream({ filter: "data" }))
          .pipe(streamArray.asStream())
          .on("data", ({ value }) => {
            if (value.id < 0) throw new Error();
            if (++n % 1000 === 0) sample();
          })
          .on("end", () => (n === ITEMS ? resolve() : reject(new Error(`got ${n}`))))
          .on("error", reject);
      }),
  };
}

export async function jsonArrayCases() {
  const { chunks, bytes } = makeChunks();
  const c = cases(chunks);
  return {
    id: "json-array",
    title: `Stream ${ITEMS.toLocaleString("en")} items (${(bytes / 1e6).toFixed(0)} MB) of the array at /data from 64 KiB chunks`,
    runs: 5,
    baseline: { name: "naive: buffer the body, JSON.parse it whole (`await res.json()`)", fn: () => c.naive() },
    candidates: [
      { name: "flowcap JsonArraySplitter (scan + one JSON.parse per chunk)", fn: () => c.splitter() },
      { name: "@streamparser/json (paths $.data.*, keepStack false)", fn: () => c.streamparser() },
      { name: "stream-json (parser → pick → streamArray)", fn: () => c.streamJson() },
      {
        name: "ceiling: decode the chunks to text, parse nothing",
        fn: async () => {
          let n = 0;
          for await (const chunk of Readable.from(chunks)) n += chunk.toString("utf8").length;
          if (n === 0) throw new Error("empty");
        },
      },
    ],
  };
}

/** Peak extra heap (MB) while each case runs, over the input chunks already in memory. */
export async function jsonArrayMemory() {
  const { chunks } = makeChunks();
  const c = cases(chunks);
  const rows = [];
  for (const [name, fn] of Object.entries(c)) {
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    let peak = before;
    const sample = () => {
      const used = process.memoryUsage().heapUsed;
      if (used > peak) peak = used;
    };
    await fn(sample);
    sample();
    rows.push({ name, peakMb: (peak - before) / 1e6 });
  }
  process.stdout.write(`\n## Peak extra heap while streaming the same ${ITEMS.toLocaleString("en")} items\n\n| case | peak extra heap |\n|---|---:|\n`);
  for (const r of rows) process.stdout.write(`| ${r.name} | ${r.peakMb.toFixed(0)} MB |\n`);
  return rows;
}
