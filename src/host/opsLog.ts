import { isPlainObject } from "../util/mergePatch.js";

export type OpsLevel = "error" | "warn" | "info" | "debug" | "trace";

/** A connector's stderr line, read as Flow's ops log decoder reads it. */
export interface OpsLog {
  level: OpsLevel;
  message: string;
  fields: Record<string, unknown>;
  ts?: string;
  /** True when the line was not a JSON log. */
  unstructured: boolean;
}

const ERRORISH = /error|failed|panic|timeout|unable|unrecognised|unrecognized/i;

function level(value: unknown): OpsLevel | undefined {
  switch (String(value ?? "").toLowerCase()) {
    case "trace":
      return "trace";
    case "debug":
      return "debug";
    case "info":
      return "info";
    case "warn":
    case "warning":
      return "warn";
    case "error":
    case "fatal":
    case "panic":
      return "error";
    default:
      return undefined;
  }
}

/**
 * Decodes one stderr line the way Flow does (crates/ops decode.rs): JSON with `ts`/`timestamp`/
 * `time`, `level`/`lvl`, `message`/`msg` and `fields`, other keys merged into fields; anything else
 * is an unstructured line whose level is guessed from its words.
 */
export function decodeOpsLog(line: string): OpsLog {
  const text = line.trimEnd();
  if (text.startsWith("{")) {
    try {
      const value: unknown = JSON.parse(text);
      if (isPlainObject(value)) {
        const fields: Record<string, unknown> = isPlainObject(value.fields) ? { ...value.fields } : {};
        let message: unknown = value.message ?? value.msg;
        let ts: unknown;
        let lvl: unknown;
        for (const [k, v] of Object.entries(value)) {
          if (k === "ts" || k === "timestamp" || k === "time") ts ??= v;
          else if (k === "level" || k === "lvl") lvl ??= v;
          else if (k !== "message" && k !== "msg" && k !== "fields" && k !== "shard" && k !== "spans") fields[k] = v;
        }
        if (message === undefined) {
          message = fields.message ?? fields.msg;
          delete fields.message;
          delete fields.msg;
        }
        const msg = typeof message === "string" ? message : message === undefined ? "" : JSON.stringify(message);
        return {
          level: level(lvl) ?? (ERRORISH.test(msg) ? "error" : "warn"),
          message: msg,
          fields,
          ...(typeof ts === "string" ? { ts } : {}),
          unstructured: false,
        };
      }
    } catch {
      // not JSON: unstructured
    }
  }
  return { level: ERRORISH.test(text) ? "error" : "warn", message: text, fields: {}, unstructured: true };
}
