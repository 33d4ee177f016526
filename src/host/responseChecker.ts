import { inspectResponse, type Response, type ResponseVariant } from "../protocol/index.js";
import { isPlainObject } from "../util/mergePatch.js";
import { keyLocationProblem } from "./keyLocation.js";
import { ProtocolViolationError, type RuleId } from "./rules.js";

/** One checked response line. */
export interface ResponseEvent {
  variant: ResponseVariant;
  response: Response;
  lineNumber: number;
  /** The line as written (documents are passed on without re-serializing when possible). */
  text: string;
}

const ANSWERS: Record<string, ResponseVariant> = {
  spec: "spec",
  discover: "discovered",
  validate: "validated",
  apply: "applied",
  open: "opened",
};

/**
 * Follows a connector's conversation and checks every line it writes against Flow's rules: what
 * each line may hold, which response each request needs, and the session's shape (opened first,
 * then sequences closed by checkpoints). Throws a ProtocolViolationError at the first breach.
 */
export class ResponseChecker {
  /** Requests sent and not answered yet. */
  private readonly pending: { variant: string; bindings?: number }[] = [];
  private session: { bindings: number; explicitAcknowledgements: boolean } | undefined;
  private openRequested: { bindings: number } | undefined;
  /** Lines of the current checkpoint sequence (0 between sequences). */
  private sequenceLines = 0;
  checkpoints = 0;
  documents = 0;

  /** Records a request sent to the connector. */
  sent(request: Record<string, unknown>): void {
    for (const variant of Object.keys(ANSWERS)) {
      const body = request[variant];
      if (!isPlainObject(body)) continue;
      if (variant === "open") {
        const capture = isPlainObject(body.capture) ? body.capture : {};
        this.openRequested = { bindings: Array.isArray(capture.bindings) ? capture.bindings.length : 0 };
      }
      this.pending.push({ variant, ...(variant === "validate" && Array.isArray(body.bindings) ? { bindings: body.bindings.length } : {}) });
    }
  }

  /** Requests still waiting for their answer. */
  get awaiting(): number {
    return this.pending.length;
  }

  /** True once `opened` was read. */
  get inSession(): boolean {
    return this.session !== undefined;
  }

  get explicitAcknowledgements(): boolean {
    return this.session?.explicitAcknowledgements ?? false;
  }

  /** True between a captured/sourcedSchema and the checkpoint that closes it. */
  get inSequence(): boolean {
    return this.sequenceLines > 0;
  }

  line(text: string, lineNumber: number): ResponseEvent {
    const violation = (rule: RuleId, detail: string) => new ProtocolViolationError(rule, detail, { lineNumber, line: text });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw violation("json-line", `not JSON (${(error as Error).message.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, "")})`);
    }
    if (!isPlainObject(value)) throw violation("json-line", `a JSON ${Array.isArray(value) ? "array" : value === null ? "null" : typeof value}, not an object`);
    // Checked and passed on with Flow's JSON names, whichever names the connector wrote.
    const { variants, unknownKeys, issues, normalized } = inspectResponse(value);
    if (variants.length !== 1) {
      throw violation("one-variant", variants.length === 0 ? `no known response variant (keys: ${Object.keys(value).join(", ") || "none"})` : `${variants.length} variants in one line (${variants.join(", ")})`);
    }
    const variant = variants[0]!;
    if (unknownKeys.length) throw violation("known-fields", `unknown top-level field ${unknownKeys.map((k) => JSON.stringify(k)).join(", ")}`);
    for (const issue of issues) {
      if (issue.kind === "unknown-field") throw violation("known-fields", `${issue.path} ${issue.message}`);
      if (issue.kind === "null-field") throw violation("no-nulls", `${issue.path} is null`);
    }
    const body = normalized[variant] as Record<string, unknown>;

    if (this.session) {
      this.checkSessionLine(variant, body, violation, issues);
    } else {
      // The rules about which answer and what it says come first; the generic type check last.
      const expected = this.pending.shift();
      if (!expected) throw violation("expected-response", `a ${variant} response, but no request is waiting for an answer`);
      const answer = ANSWERS[expected.variant]!;
      if (variant !== answer) {
        if (expected.variant === "open") throw violation("opened-first", `the session's first response is ${variant}, not opened`);
        throw violation("expected-response", `a ${variant} response to a ${expected.variant} request (expected ${answer})`);
      }
      if (variant === "spec" && body.protocol !== 3032023) throw violation("protocol-version", `spec.protocol is ${JSON.stringify(body.protocol)}`);
      if (variant === "discovered") {
        const bindings = Array.isArray(body.bindings) ? body.bindings : [];
        bindings.forEach((b: unknown, i: number) => {
          if (!isPlainObject(b) || !Array.isArray(b.key)) return; // the type check below reports it
          const name = typeof b.recommendedName === "string" ? ` (${b.recommendedName})` : "";
          for (const ptr of b.key) {
            // A key that is not a pointer at all is `flowcap check`'s to report, with the others of its kind.
            const problem = typeof ptr === "string" && ptr.startsWith("/") ? keyLocationProblem(b.documentSchema, ptr) : undefined;
            if (problem) throw violation("discovered-keys", `discovered.bindings[${i}]${name}: key ${problem}`);
          }
        });
      }
      if (variant === "validated") {
        const bindings = Array.isArray(body.bindings) ? body.bindings : [];
        if (expected.bindings !== undefined && bindings.length !== expected.bindings) {
          throw violation("validated-bindings", `${bindings.length} validated binding(s) for ${expected.bindings} requested`);
        }
        bindings.forEach((b: unknown, i: number) => {
          const path = isPlainObject(b) ? b.resourcePath : undefined;
          if (!Array.isArray(path) || path.length === 0) throw violation("validated-bindings", `validated.bindings[${i}] has no resourcePath`);
        });
      }
      for (const issue of issues) throw violation("field-types", `${issue.path}: ${issue.message}`);
      if (variant === "opened") {
        this.session = { bindings: this.openRequested?.bindings ?? 0, explicitAcknowledgements: body.explicitAcknowledgements === true };
      }
    }
    return { variant, response: normalized as Response, lineNumber, text };
  }

  private checkSessionLine(variant: ResponseVariant, body: Record<string, unknown>, violation: (rule: RuleId, detail: string) => ProtocolViolationError, issues: { path: string; message: string }[]): void {
    if (variant !== "captured" && variant !== "sourcedSchema" && variant !== "checkpoint") {
      throw violation("session-messages", `a ${variant} response during a capture session`);
    }
    if (variant === "checkpoint") {
      const state = body.state;
      if (!isPlainObject(state) || !isPlainObject(state.updated)) {
        throw violation("checkpoint-state", isPlainObject(state) ? "checkpoint.state.updated is missing or not an object" : "checkpoint.state is missing");
      }
      for (const issue of issues) throw violation("field-types", `${issue.path}: ${issue.message}`);
      this.sequenceLines = 0;
      this.checkpoints++;
      return;
    }
    if (variant === "captured" && !isPlainObject(body.doc)) {
      throw violation("document-object", `captured.doc is ${body.doc === undefined ? "missing" : `a ${Array.isArray(body.doc) ? "array" : typeof body.doc}`}`);
    }
    for (const issue of issues) throw violation("field-types", `${issue.path}: ${issue.message}`);
    const binding = body.binding ?? 0;
    if (!Number.isInteger(binding) || (binding as number) < 0 || (binding as number) >= this.session!.bindings) {
      throw violation("binding-index", `${variant}.binding is ${JSON.stringify(binding)}, but the capture has ${this.session!.bindings} binding(s)`);
    }
    if (variant === "captured") {
      this.documents++;
    } else {
      const open = openObjectSchema(body.documentSchema, "documentSchema");
      if (open) throw violation("sourced-schema-closed", `${open} has properties but does not set additionalProperties: false`);
    }
    this.sequenceLines++;
  }

  /** Checks how the output ended; returns the violation, if any. */
  end(): ProtocolViolationError | undefined {
    if (this.session && this.sequenceLines > 0) {
      return new ProtocolViolationError("eof-in-sequence", `stdout ended after ${this.sequenceLines} captured/sourcedSchema message(s) with no checkpoint after them`);
    }
    const unanswered = this.pending[0];
    if (unanswered) {
      return new ProtocolViolationError("expected-response", `stdout ended without a response to the ${unanswered.variant} request`);
    }
    return undefined;
  }
}

/**
 * The path of the first object schema with properties that is left open: it sets neither
 * additionalProperties nor unevaluatedProperties to false, and no enclosing schema closes it with
 * unevaluatedProperties: false (which covers the properties its allOf/oneOf/anyOf branches and
 * local definitions evaluate at the same instance, as Estuary's SQL captures' schemas do).
 */
function openObjectSchema(schema: unknown, path: string, closedAbove = false): string | undefined {
  if (!isPlainObject(schema)) return undefined;
  const closed = closedAbove || schema.unevaluatedProperties === false;
  if (isPlainObject(schema.properties) && schema.additionalProperties !== false && !closed) return path;
  for (const [key, sub] of Object.entries(isPlainObject(schema.properties) ? schema.properties : {})) {
    const found = openObjectSchema(sub, `${path}.properties.${key}`);
    if (found) return found;
  }
  for (const key of ["items", "additionalProperties"]) {
    const found = openObjectSchema(schema[key], `${path}.${key}`);
    if (found) return found;
  }
  for (const key of ["oneOf", "anyOf", "allOf"]) {
    const list = schema[key];
    if (Array.isArray(list)) {
      for (const [i, sub] of list.entries()) {
        const found = openObjectSchema(sub, `${path}.${key}[${i}]`, closed);
        if (found) return found;
      }
    }
  }
  for (const key of ["$defs", "definitions"]) {
    const defs = schema[key];
    if (isPlainObject(defs)) {
      for (const [name, sub] of Object.entries(defs)) {
        const found = openObjectSchema(sub, `${path}.${key}.${name}`, closed);
        if (found) return found;
      }
    }
  }
  return undefined;
}
