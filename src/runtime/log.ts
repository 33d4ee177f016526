import type { Writable } from "node:stream";
import { Redactor } from "../util/redact.js";

/** Flow's log levels, most severe first. */
export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";
export type LogFields = Record<string, unknown>;

const SEVERITY: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };

/**
 * Reads a level the way Flow's runtime writes `LOG_LEVEL` (lower-case ops level names), accepting
 * any case and the aliases `warning`, `fatal` and `panic`. Unknown or missing values give `info`.
 */
export function parseLogLevel(value: string | undefined): LogLevel {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "warning") return "warn";
  if (v === "fatal" || v === "panic") return "error";
  return v in SEVERITY ? (v as LogLevel) : "info";
}

/**
 * The one logger of a connector process. Each call writes one JSON line to stderr in the shape
 * Flow's ops log decoder reads: `{"ts","level","message","fields"}`. Registered secrets are
 * redacted from every string of the line before it is serialized.
 */
export interface Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  trace(message: string, fields?: LogFields): void;
  log(level: LogLevel, message: string, fields?: LogFields): void;
  /** A logger whose lines also carry `fields`. */
  child(fields: LogFields): Logger;
  /** Flow's events: log lines tagged with `fields.eventType`. */
  readonly event: {
    /** A human-readable status; the control plane shows the latest one (`connectorStatus`). */
    status(message: string, fields?: LogFields): void;
    /**
     * Asks the control plane to republish the task with a new endpoint config (`configUpdate`).
     * `config` must already be encrypted the way the control plane does it.
     */
    configUpdate(message: string, config: unknown, fields?: LogFields): void;
  };
  /** Secrets registered here are redacted from every line this logger (and its children) write. */
  readonly redactor: Redactor;
}

export interface LoggerOptions {
  stream: Writable;
  level?: LogLevel;
  redactor?: Redactor;
  fields?: LogFields;
  /** The clock, for tests. */
  now?: () => Date;
}

export function createLogger(options: LoggerOptions): Logger {
  return new JsonLogger(options.stream, options.level ?? "info", options.redactor ?? new Redactor(), options.fields ?? {}, options.now ?? (() => new Date()));
}

class JsonLogger implements Logger {
  readonly event: Logger["event"];

  constructor(
    private readonly stream: Writable,
    readonly level: LogLevel,
    readonly redactor: Redactor,
    private readonly base: LogFields,
    private readonly now: () => Date,
  ) {
    this.event = {
      status: (message, fields) => this.log("info", message, { ...fields, eventType: "connectorStatus" }),
      configUpdate: (message, config, fields) => this.log("info", message, { ...fields, eventType: "configUpdate", config }),
    };
  }

  enabled(level: LogLevel): boolean {
    return SEVERITY[level] <= SEVERITY[this.level];
  }

  error(message: string, fields?: LogFields) {
    this.log("error", message, fields);
  }
  warn(message: string, fields?: LogFields) {
    this.log("warn", message, fields);
  }
  info(message: string, fields?: LogFields) {
    this.log("info", message, fields);
  }
  debug(message: string, fields?: LogFields) {
    this.log("debug", message, fields);
  }
  trace(message: string, fields?: LogFields) {
    this.log("trace", message, fields);
  }

  log(level: LogLevel, message: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const line = { ts: this.now().toISOString(), level, message, fields: fields ? { ...this.base, ...fields } : this.base };
    this.stream.write(serialize(line, this.redactor) + "\n");
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.stream, this.level, this.redactor, { ...this.base, ...fields }, this.now);
  }
}

/** JSON.stringify that redacts strings, writes BigInts as strings, and turns Errors into plain objects. */
function serialize(line: unknown, redactor: Redactor): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(line, function (this: unknown, _key: string, value: unknown) {
    if (typeof value === "string") return redactor.redact(value);
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Error) return errorFields(value);
    if (typeof value === "object" && value !== null) {
      if (seen.has(value)) return "[circular]";
      seen.add(value);
    }
    return value;
  });
}

/** The loggable parts of an error: its message, code, stack lines and cause. */
export function errorFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack) out.stack = error.stack.split("\n");
  if (error.cause !== undefined) out.cause = error.cause instanceof Error ? errorFields(error.cause) : error.cause;
  return out;
}
