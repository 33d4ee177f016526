import { Console } from "node:console";
import { Writable } from "node:stream";
import type { Logger, LogLevel } from "./log.js";

/**
 * Points the global `console` at the connector's JSON log while `serve()` owns stdout: stdout is
 * Flow's protocol, and one stray `console.log` in a connector or a library it uses would be a
 * line Flow cannot parse, failing the task. What `console.log`/`info`/`debug`/`dir`/`table`
 * print becomes `info` log lines, what `console.warn`/`error`/`trace` print `warn` lines, one per
 * line of text, each with `fields.source: "console"` and redacted like every log line.
 *
 * The whole console is replaced (rather than a few of its methods) so that every method is
 * covered, `console.table` and `console.group` included. Returns the function that restores it.
 */
export function routeConsoleToLog(log: Logger): () => void {
  const previous = globalThis.console;
  globalThis.console = new Console({ stdout: lineStream(log, "info"), stderr: lineStream(log, "warn"), colorMode: false });
  return () => {
    globalThis.console = previous;
  };
}

function lineStream(log: Logger, level: LogLevel): Writable {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      for (const line of String(chunk).split("\n")) {
        if (line.trim() !== "") log.log(level, line, { source: "console" });
      }
      done();
    },
  });
}
