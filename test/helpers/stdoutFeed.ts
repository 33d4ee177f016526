import { LineSplitter, type LineBatch } from "../../src/protocol/index.js";

/** What a shim's session reads a program's stdout through (both ways a reader may feed it). */
export interface StdoutSink {
  line(line: Buffer): void | Promise<void>;
  lines(batch: LineBatch): void | Promise<void>;
}

/**
 * How in-memory sources feed a session: `batches` as a child's reader does (the lines' bytes in
 * fresh buffers cut every `chunkBytes`, so lines also straddle chunks, handed over as batches the
 * session rewrites in place), or `lines`, one Buffer per line (what a source in this process
 * does). The shims' connector tests run both.
 */
export type FeedMode = "batches" | "lines";

export const FEED_MODES: readonly FeedMode[] = ["batches", "lines"];

/** Feeds `lines` (text, or messages written as JSON) to `sink`, waiting whenever it asks. */
export async function feedStdout(sink: StdoutSink, lines: readonly (string | object)[], mode: FeedMode = "batches", chunkBytes = 97): Promise<void> {
  const texts = lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l)));
  if (mode === "lines") {
    for (const text of texts) {
      const wait = sink.line(Buffer.from(text));
      if (wait) await wait;
    }
    return;
  }
  const bytes = Buffer.from(texts.map((t) => t + "\n").join(""));
  const splitter = new LineSplitter();
  const batches: LineBatch[] = [];
  for (let at = 0; at < bytes.length; at += chunkBytes) {
    // A fresh buffer per chunk, as a pipe's read makes one.
    splitter.pushBatch(Buffer.from(bytes.subarray(at, at + chunkBytes)), (batch) => batches.push(batch));
    for (const batch of batches.splice(0)) {
      const wait = sink.lines(batch);
      if (wait) await wait;
    }
  }
}
