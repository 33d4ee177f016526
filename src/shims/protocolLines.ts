/**
 * Which lines of a wrapped program's stdout are protocol messages, for every shim (one rule, so
 * the Airbyte and Singer shims cannot drift apart):
 *
 * - A line that parses as a JSON object with a string `type` is a protocol message.
 * - A line that does not parse is the program's own output (a library's `print`, a progress
 *   line, a traceback) and is logged, unless it holds the start of a protocol message: `{`, then
 *   a `"type"` member naming one of the protocol's message types (any case, whitespace allowed
 *   around the brace and the colon), anywhere in the line. Every Airbyte and Singer library
 *   writes `type` first. Such a line is a message the shim cannot read (Python's `NaN`, a line
 *   cut short, a stray byte, another write landing inside it), and dropping it could lose a
 *   record or a state for good: the capture fails at that line, before anything after it (the
 *   next STATE included) is committed, naming the stdout line number and what is wrong.
 * - The lines of a message pretty-printed over several lines (which no protocol allows) hold no
 *   `{"type"` on one line: they are logged, as the Airbyte platform does.
 *
 * This costs the record path nothing: it runs only for lines that failed to parse.
 */
import { FlowcapError } from "../util/errors.js";

/** Longest part of a line quoted in an error. */
const PREVIEW_CHARS = 200;

/** The rule for one protocol's stdout lines; see the module comment. */
export class ProtocolLineRule {
  private readonly messageStart: RegExp;

  /**
   * @param protocol The protocol's name, for messages (`Airbyte`).
   * @param writer How messages name the program (`the source`).
   * @param types The protocol's message types.
   */
  constructor(
    readonly protocol: string,
    readonly writer: string,
    types: readonly string[],
  ) {
    this.messageStart = new RegExp(`\\{\\s*"type"\\s*:\\s*"(${types.join("|")})"`, "i");
  }

  /**
   * For a stdout line that did not parse (`problem` says why, e.g. JSON.parse's message):
   * returns the error that fails the capture when the line looks like a protocol message, and
   * undefined when it is the program's own output (the caller logs it).
   */
  unreadable(text: string, lineNumber: number, problem: string): FlowcapError | undefined {
    const found = this.messageStart.exec(text);
    if (!found) return undefined;
    const type = found[1]!.toUpperCase();
    return new FlowcapError("SOURCE_OUTPUT_INVALID", `${this.writer} wrote an unreadable ${this.protocol} ${type} message (stdout line ${lineNumber}, not valid JSON: ${problem}): ${preview(text)}`, {
      userFacing: true,
      data: { line: lineNumber, type },
    });
  }
}

/** `text` cut to its first PREVIEW_CHARS characters (an ellipsis says it was cut), for an error that quotes the program's output. */
export function preview(text: string): string {
  return text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) + "…" : text;
}

/** Why `text` is not JSON (JSON.parse's message), or undefined when it is. */
export function jsonProblem(text: string): string | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
