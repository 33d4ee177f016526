import { PassThrough } from "node:stream";
import { createLogger, type Logger } from "../../src/runtime/index.js";
import { LineCollector } from "./inProcess.js";

/** A debug-level logger whose JSON lines are collected, for tests that check what gets logged. */
export function logSink(): { log: Logger; lines: LineCollector } {
  const stream = new PassThrough();
  const lines = new LineCollector();
  stream.on("data", (c: Buffer) => lines.push(c));
  return { log: createLogger({ stream, level: "debug" }), lines };
}
