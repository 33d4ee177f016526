import { FlowcapError } from "../util/errors.js";

/**
 * The rules a connector's output must follow, as Flow's runtime enforces them
 * (flow-protocol.md §1-§8). Each has a stable id, what it requires, and a hint for the author.
 */
export const PROTOCOL_RULES = {
  "json-line": {
    requires: "every stdout line is one JSON object",
    hint: "write exactly one JSON object per line to stdout, and send everything else (logs, prints) to stderr",
  },
  "one-variant": {
    requires: "every response holds exactly one known variant (spec, discovered, validated, applied, opened, captured, sourcedSchema, checkpoint)",
    hint: "wrap each message in its envelope, e.g. {\"captured\": {...}}, one per line",
  },
  "known-fields": {
    requires: "responses hold only fields Flow knows",
    hint: "Flow's runtime rejects unknown fields: remove it (newer fields such as isFallbackKey need a runtime that knows them)",
  },
  "no-nulls": {
    requires: "responses hold no null fields",
    hint: "Flow's runtime rejects null for protocol fields: omit the field instead",
  },
  "field-types": {
    requires: "response fields have the types Flow expects",
    hint: "see schemas/response.schema.json for each field's type",
  },
  "protocol-version": {
    requires: "spec responses report protocol 3032023",
    hint: "set spec.protocol to 3032023 (Flow's runtime refuses other versions)",
  },
  "expected-response": {
    requires: "each request gets exactly the response it asks for, in order (spec → spec, discover → discovered, validate → validated, apply → applied, open → opened)",
    hint: "answer each request once, with its own response type",
  },
  "discovered-keys": {
    requires: "each discovered key is a list of JSON pointers to locations its documentSchema requires, holding integers, strings or booleans",
    hint: "Flow refuses a collection keyed elsewhere: declare each key property in the schema and list it (and its parents) in required",
  },
  "validated-bindings": {
    requires: "validated holds one binding per requested binding, each with a non-empty resourcePath",
    hint: "return validated.bindings in the same order as validate.bindings",
  },
  "opened-first": {
    requires: "the first response of a session is opened",
    hint: "answer open with {\"opened\": {}} before capturing anything",
  },
  "session-messages": {
    requires: "after opened, a session writes only captured, sourcedSchema and checkpoint",
    hint: "a session's other output must go to stderr",
  },
  "checkpoint-state": {
    requires: "every checkpoint carries state.updated (an object; {} for an empty checkpoint)",
    hint: "write {\"checkpoint\": {\"state\": {\"updated\": {...}, \"mergePatch\": true}}}",
  },
  "binding-index": {
    requires: "captured and sourcedSchema name a binding index of the opened capture",
    hint: "binding is the index of the binding in open.capture.bindings, from 0",
  },
  "document-object": {
    requires: "captured documents are JSON objects",
    hint: "captured.doc must be an object",
  },
  "sourced-schema-closed": {
    requires: "a sourcedSchema is closed: additionalProperties false on every object with properties",
    hint: "close every object schema in documentSchema (additionalProperties: false)",
  },
  "eof-in-sequence": {
    requires: "a session's output never ends inside a checkpoint sequence",
    hint: "write a checkpoint after the last captured document before exiting (Flow discards documents not followed by one)",
  },
  "partial-line": {
    requires: "stdout never ends with a partial line",
    hint: "end every message with a newline and flush before exiting",
  },
  "exit-status": {
    requires: "the connector exits 0 after answering (unary requests: at stdin EOF)",
    hint: "exit 0 once stdin is closed and the request is answered; log the error as the last stderr line and exit non-zero only on failure",
  },
  "stops-at-eof": {
    requires: "the connector exits once stdin is closed (after its current checkpoint)",
    hint: "keep reading stdin, and stop when it closes",
  },
  "acknowledgements": {
    requires: "a connector that asked for explicit acknowledgements reads them as they come",
    hint: "keep reading stdin during the session: Flow waits 10 s for an acknowledge to be consumed",
  },
} as const;

export type RuleId = keyof typeof PROTOCOL_RULES;

/** A connector broke one of Flow's protocol rules. */
export class ProtocolViolationError extends FlowcapError {
  readonly rule: RuleId;
  readonly lineNumber: number | undefined;

  constructor(rule: RuleId, detail: string, options: { lineNumber?: number; line?: string } = {}) {
    const where = options.lineNumber !== undefined ? `stdout line ${options.lineNumber}: ` : "";
    const excerpt = options.line !== undefined ? `\n  line: ${options.line.length > 300 ? options.line.slice(0, 300) + "…" : options.line}` : "";
    super("PROTOCOL_VIOLATION", `protocol violation [${rule}]: ${where}${detail}${excerpt}\n  rule: ${PROTOCOL_RULES[rule].requires}\n  hint: ${PROTOCOL_RULES[rule].hint}`, {
      userFacing: true,
      data: { rule, ...(options.lineNumber !== undefined ? { line: options.lineNumber } : {}) },
    });
    this.rule = rule;
    this.lineNumber = options.lineNumber;
  }
}
