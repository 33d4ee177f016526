/**
 * What a shim makes of the lines a child writes that are not protocol messages (its stderr, a
 * stray stdout line): log lines, at the level the child meant when it says one.
 */
import type { Logger, LogLevel } from "../runtime/index.js";
import { isPlainObject } from "../util/mergePatch.js";

/** Maps a level name as programs write it (`WARNING`, `FATAL`, `critical`, `err`) to Flow's levels. */
export function levelFromName(name: unknown, fallback: LogLevel = "info"): LogLevel {
  if (typeof name !== "string") return fallback;
  switch (name.trim().toLowerCase()) {
    case "fatal":
    case "critical":
    case "panic":
    case "error":
    case "err":
      return "error";
    case "warn":
    case "warning":
      return "warn";
    case "info":
    case "notice":
      return "info";
    case "debug":
      return "debug";
    case "trace":
      return "trace";
    default:
      return fallback;
  }
}

/**
 * Relays one line a child wrote (on stderr, or a stdout line that is not a protocol message)
 * as a log line. A JSON object with a level and a message (`{"level","message"}`,
 * `{"levelname","msg"}`, ...) keeps its level and its other fields; anything else is logged as
 * text at `level`.
 */
export function relayLine(log: Logger, text: string, fields: Record<string, unknown>, level: LogLevel = "info"): void {
  if (text.length > 1 && text.charCodeAt(0) === 0x7b /* { */) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (isPlainObject(parsed)) {
      const message = parsed.message ?? parsed.msg;
      const levelName = parsed.level ?? parsed.levelname ?? parsed.severity;
      if (typeof message === "string" && levelName !== undefined) {
        const { message: _m, msg: _g, level: _l, levelname: _n, severity: _s, ...rest } = parsed;
        log.log(levelFromName(levelName, level), message, { ...fields, ...rest });
        return;
      }
    }
  }
  log.log(level, text, fields);
}
