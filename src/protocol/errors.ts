import { FlowcapError } from "../util/errors.js";

/**
 * A request line that cannot be taken: not JSON, not an object, not exactly one known variant, or
 * a variant whose fields are wrong. Names the line and the problem; it is the sender's mistake,
 * so it is logged without a stack.
 */
export class RequestDecodeError extends FlowcapError {
  readonly lineNumber: number;

  constructor(lineNumber: number, problem: string, options: { cause?: unknown; variant?: string } = {}) {
    super("REQUEST_INVALID", `request line ${lineNumber}: ${problem}`, {
      userFacing: true,
      cause: options.cause,
      data: { line: lineNumber, ...(options.variant ? { request: options.variant } : {}) },
    });
    this.lineNumber = lineNumber;
  }
}

/** A line longer than the reader's limit. */
export class LineTooLongError extends FlowcapError {
  readonly lineNumber: number;

  constructor(lineNumber: number, maxLineBytes: number) {
    super("LINE_TOO_LONG", `line ${lineNumber} is longer than the ${maxLineBytes}-byte limit`, {
      userFacing: true,
      data: { line: lineNumber, maxLineBytes },
    });
    this.lineNumber = lineNumber;
  }
}
