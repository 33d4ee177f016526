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
 * redacted from every string, number and key of the line before it is serialized, except from
 * an event's payload (the config of a `configUpdate`), which Flow acts on and gets byte for byte.
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
     * `config` must already be encrypted the way the control plane does it: an object, or the
     * encryption service's answer as it came (`RawJson`). It is written as it is, never
     * redacted (a plain field equal to a secret, or the ciphertext, must reach Flow unchanged);
     * the message and the other fields are redacted as usual.
     */
    configUpdate(message: string, config: object | RawJson, fields?: LogFields): void;
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

/**
 * JSON text that a log line carries as it is (an event payload), instead of serializing a value.
 * The text must be one JSON value; whitespace between its tokens is dropped so that the log line
 * stays one line, and nothing else of it changes.
 */
export class RawJson {
  readonly json: string;
  constructor(json: string) {
    this.json = compactJson(json);
  }
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
      configUpdate: (message, config, fields) => {
        const { config: _ignored, ...rest } = fields ?? {};
        this.write("info", message, { ...rest, eventType: "configUpdate" }, config instanceof RawJson ? config.json : serializePayload(config));
      },
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
    this.write(level, message, fields);
  }

  /** Writes one line; `config`, when given, is the JSON text of `fields.config`, written as it is. */
  private write(level: LogLevel, message: string, fields: LogFields | undefined, config?: string): void {
    if (!this.enabled(level)) return;
    const line = { ts: this.now().toISOString(), level, message, fields: fields ? { ...this.base, ...fields } : this.base };
    let text = serialize(line, this.redactor);
    if (config !== undefined) {
      // `fields` is the line's last member: its object closes just before the line's own brace.
      const at = text.length - 2;
      text = `${text.slice(0, at)}${text[at - 1] === "{" ? "" : ","}"config":${config}}}`;
    }
    this.stream.write(text + "\n");
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.stream, this.level, this.redactor, { ...this.base, ...fields }, this.now);
  }
}

/**
 * JSON.stringify that redacts strings, numbers and object keys, writes BigInts as strings, and
 * turns Errors into plain objects. An object that contains itself is written as "[circular]"
 * where it recurs; one that is merely reached twice (shared by two fields) is written both times.
 */
function serialize(line: unknown, redactor: Redactor): string {
  // The objects from the root down to the one being written: JSON.stringify walks depth first and
  // calls the replacer with the object holding `value`, so whatever sits above that holder here
  // has been written completely. `written` is what the replacer returned for `source` (a copy
  // with redacted keys, an Error's fields), which is what holds the next values.
  const ancestors: { source: object; written: unknown }[] = [];
  const redacting = redactor.size > 0;
  return JSON.stringify(line, function (this: unknown, _key: string, value: unknown) {
    if (typeof value === "string") return redactor.redact(value);
    if (typeof value === "number" || typeof value === "bigint") {
      const text = value.toString();
      if (!redacting) return typeof value === "bigint" ? text : value;
      const redacted = redactor.redact(text);
      return redacted !== text || typeof value === "bigint" ? redacted : value;
    }
    if (typeof value !== "object" || value === null) return value;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1]!.written !== this) ancestors.pop();
    if (ancestors.some((a) => a.source === value)) return "[circular]";
    const written = value instanceof Error ? errorFields(value) : redacting && !Array.isArray(value) ? redactKeys(value as Record<string, unknown>, redactor) : value;
    ancestors.push({ source: value, written });
    return written;
  });
}

/** The object itself, or a copy whose keys holding a secret are redacted. */
function redactKeys(value: Record<string, unknown>, redactor: Redactor): Record<string, unknown> {
  const keys = Object.keys(value);
  if (keys.every((key) => redactor.redact(key) === key)) return value;
  const out: Record<string, unknown> = {};
  for (const key of keys) out[redactor.redact(key)] = value[key];
  return out;
}

/** An event payload's JSON text: as JSON.stringify writes it (BigInts as numbers' digits), never redacted. */
function serializePayload(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? "null";
}

/** `json` without the whitespace between its tokens (strings are kept byte for byte). */
function compactJson(json: string): string {
  if (!/[\n\r\t ]/.test(json)) return json;
  let out = "";
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (inString) {
      out += c;
      if (c === "\\") out += json[++i] ?? "";
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c !== " " && c !== "\n" && c !== "\r" && c !== "\t") out += c;
  }
  return out;
}

/** The loggable parts of an error: its message, code, stack lines and cause. */
export function errorFields(error: Error, seen: Set<Error> = new Set()): Record<string, unknown> {
  seen.add(error);
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.stack) out.stack = error.stack.split("\n");
  const cause = error.cause;
  if (cause !== undefined) out.cause = !(cause instanceof Error) ? cause : seen.has(cause) ? "[circular]" : errorFields(cause, seen);
  return out;
}
