import { readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from "yaml";
import { FlowcapError } from "../util/errors.js";

/** A catalog problem: names the file, the place inside it and what is wrong. */
export class CatalogError extends FlowcapError {
  constructor(message: string, options: { cause?: unknown; data?: Record<string, unknown> } = {}) {
    super("CATALOG_INVALID", message, { userFacing: true, ...options });
  }
}

export type YamlPath = readonly (string | number)[];

/** A parsed YAML or JSON file that remembers where each value came from, for error messages. */
export class SourceFile {
  private constructor(
    /** Absolute path. */
    readonly file: string,
    readonly document: Document,
    private readonly lines: LineCounter,
    /** The file's text, as read. */
    readonly text: string,
  ) {}

  static async load(file: string, displayRoot = process.cwd()): Promise<SourceFile> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
      throw new CatalogError(`${path.relative(displayRoot, file) || file}: cannot read: ${reason}`, { cause: error });
    }
    return SourceFile.parse(file, text, displayRoot);
  }

  static parse(file: string, text: string, displayRoot = process.cwd()): SourceFile {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
    const source = new SourceFile(file, document, lines, text);
    source.displayRoot = displayRoot;
    const error = document.errors[0];
    if (error) {
      const pos = error.linePos?.[0];
      throw new CatalogError(`${source.display}${pos ? `:${pos.line}:${pos.col}` : ""}: invalid YAML: ${error.message.split("\n")[0]}`);
    }
    return source;
  }

  private displayRoot = process.cwd();

  /** The file's path as shown in messages (relative to where flowcap runs). */
  get display(): string {
    return path.relative(this.displayRoot, this.file) || this.file;
  }

  get directory(): string {
    return path.dirname(this.file);
  }

  /** The whole file as plain JSON values. */
  toJS(): unknown {
    return this.document.toJS({ maxAliasCount: 100 });
  }

  /** `file:line:col: captures.acmeCo/x.endpoint: message` for the value at `at`. */
  error(at: YamlPath, message: string, options: { cause?: unknown } = {}): CatalogError {
    return new CatalogError(`${this.where(at)}: ${message}`, options);
  }

  where(at: YamlPath): string {
    let node: unknown = this.document.getIn(at as (string | number)[], true);
    // Fall back to the nearest ancestor that exists (a missing key points at its parent).
    for (let n = at.length - 1; node === undefined && n >= 0; n--) node = this.document.getIn(at.slice(0, n) as (string | number)[], true);
    const range = (isMap(node) || isSeq(node) || isScalar(node)) && node.range ? node.range : undefined;
    const pos = range ? this.lines.linePos(range[0]) : undefined;
    const dotted = at.map((p) => (typeof p === "number" ? `[${p}]` : `${p}`)).join(".").replace(/\.\[/g, "[");
    return `${this.display}${pos ? `:${pos.line}:${pos.col}` : ""}${dotted ? `: ${dotted}` : ""}`;
  }
}
