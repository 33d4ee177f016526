import { parsePointer } from "../../util/jsonPointer.js";
import { FlowcapError } from "../../util/errors.js";

/** The largest single array item the splitter holds while it arrives: 64 MiB. */
export const DEFAULT_MAX_ITEM_BYTES = 64 * 1024 * 1024;
/** The most of the document around the array (the envelope) the splitter keeps: 16 MiB. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;

/** Options of streamJsonArray and JsonArraySplitter. */
export interface JsonArrayStreamOptions {
  /**
   * RFC 6901 pointer to the array whose items are streamed: `""` (the default) for a body that is
   * the array itself, `/data` for `{"data": [...]}`, `/results/0/items` deeper in.
   */
  pointer?: string;
  /** A longer item fails with LINE_TOO_LONG instead of exhausting memory: DEFAULT_MAX_ITEM_BYTES. */
  maxItemBytes?: number;
  /** The envelope (everything but the array's items) is kept up to this size: DEFAULT_MAX_ENVELOPE_BYTES. */
  maxEnvelopeBytes?: number;
  /** Names the source in error messages (a URL with secrets stripped). */
  source?: string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** A container of the envelope: its kind, the key or index being read, and whether its path is a prefix of the pointer. */
interface Frame {
  object: boolean;
  index: number;
  key: string | undefined;
  onPath: boolean;
}

/** What the envelope scanner expects next; `scalar`: the rest of a number or literal begun in the previous chunk. */
type Expect = "value" | "key" | "colon" | "next" | "done" | "scalar";

/**
 * Splits a JSON document arriving in chunks into the items of the array at a JSON pointer,
 * holding at most one chunk and one unfinished item. The structure is scanned byte by byte
 * (strings are skipped with `indexOf`), and the complete items of each chunk are parsed together
 * by one `JSON.parse`, so V8's native parser does the real work (see BENCHMARKS.md for why this
 * beats a token-by-token streaming parser). Everything outside the array (the envelope: a
 * `next_cursor` after the items, say) is kept and parsed at the end, with the array left empty:
 * that is `remainder`.
 */
export class JsonArraySplitter {
  private readonly tokens: string[];
  private readonly maxItemBytes: number;
  private readonly maxEnvelopeBytes: number;
  private readonly source: string;

  // Envelope state.
  private readonly stack: Frame[] = [];
  private expect: Expect = "value";
  private inString = false;
  private escaped = false;
  private stringIsKey = false;
  private keyParts: Buffer[] = [];
  private readonly envelope: Buffer[] = [];
  private envelopeBytes = 0;
  private found = false;
  private offset = 0;

  // Item state (inside the target array).
  private inItems = false;
  private depth = 0;
  /** The unparsed tail of earlier chunks: the start of an item not complete yet. */
  private carry: Buffer[] = [];
  private carryBytes = 0;

  private finished = false;
  private remainderValue: unknown = undefined;

  constructor(options: JsonArrayStreamOptions = {}) {
    this.tokens = parsePointer(options.pointer ?? "");
    this.maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
    this.maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
    this.source = options.source ?? "the response";
  }

  /** The document without the array's items (`{"data": [], "next": "c2"}`); undefined before `end()` or for a root array. */
  get remainder(): unknown {
    return this.remainderValue;
  }

  private fail(message: string): never {
    throw new FlowcapError("HTTP_BODY_INVALID", `${this.source}: ${message}`);
  }

  private where(): string {
    return this.tokens.length === 0 ? "the top level" : "/" + this.tokens.join("/");
  }

  /** Feeds one chunk; returns the items it completed, in order. */
  push(chunk: Uint8Array): unknown[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const items: unknown[] = [];
    let i = 0;
    while (i < buf.length) {
      if (this.inItems) {
        i = this.scanItems(buf, i, items);
      } else {
        const start = i;
        i = this.scanEnvelope(buf, i);
        this.keep(buf.subarray(start, i));
      }
    }
    this.offset += buf.length;
    return items;
  }

  /** Declares the end of the document; throws if it was incomplete or had no array at the pointer. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.inItems || this.stack.length > 0 || this.expect !== "done") {
      this.fail(`the JSON document ended early (after ${this.offset} bytes${this.inItems ? ", inside the array" : ""})`);
    }
    if (!this.found) this.fail(`no array at ${this.where()} in the JSON document`);
    if (this.tokens.length > 0) {
      const text = Buffer.concat(this.envelope).toString("utf8");
      try {
        this.remainderValue = JSON.parse(text);
      } catch (error) {
        throw new FlowcapError("HTTP_BODY_INVALID", `${this.source}: the JSON document around the array is not valid JSON: ${(error as Error).message}`, { cause: error });
      }
    }
  }

  private keep(bytes: Buffer): void {
    if (bytes.length === 0 || this.tokens.length === 0) return;
    this.envelopeBytes += bytes.length;
    if (this.envelopeBytes > this.maxEnvelopeBytes) {
      throw new FlowcapError("LINE_TOO_LONG", `${this.source}: more than ${this.maxEnvelopeBytes} bytes of the JSON document lie outside the array at ${this.where()}`);
    }
    // Copied: the chunk's memory may be reused by the stream.
    this.envelope.push(Buffer.from(bytes));
  }

  /** Scans items from `i`; returns where it stopped (the chunk's end, or just after the array's `]`). */
  private scanItems(buf: Buffer, from: number, items: unknown[]): number {
    const n = buf.length;
    let i = from;
    let depth = this.depth;
    let regionStart = from;
    let boundary = -1;
    let closedAt = -1;
    if (this.inString) {
      i = this.skipString(buf, i);
      if (this.inString) return this.holdItem(buf, regionStart, n);
    }
    while (i < n) {
      const c = buf[i]!;
      if (c === QUOTE) {
        this.inString = true;
        i = this.skipString(buf, i + 1);
        continue;
      }
      if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        if (depth === 0) {
          closedAt = i;
          break;
        }
        depth--;
      } else if (c === COMMA && depth === 0) boundary = i;
      i++;
    }
    this.depth = depth;
    if (closedAt !== -1) {
      this.parseRegion(buf, regionStart, closedAt, items, true);
      this.inItems = false;
      // The `]` belongs to the envelope (the remainder keeps an empty array).
      this.afterValue();
      this.keep(buf.subarray(closedAt, closedAt + 1));
      return closedAt + 1;
    }
    if (boundary !== -1) {
      this.parseRegion(buf, regionStart, boundary, items, false);
      regionStart = boundary + 1;
    }
    return this.holdItem(buf, regionStart, n);
  }

  /** Keeps the unfinished item's bytes for the next chunk. */
  private holdItem(buf: Buffer, start: number, end: number): number {
    if (end > start) {
      this.carryBytes += end - start;
      if (this.carryBytes > this.maxItemBytes) {
        throw new FlowcapError("LINE_TOO_LONG", `${this.source}: an item of the array at ${this.where()} is longer than ${this.maxItemBytes} bytes`);
      }
      this.carry.push(Buffer.from(buf.subarray(start, end)));
    }
    return end;
  }

  /** Parses the complete items in carry + buf[start, end) with one JSON.parse. */
  private parseRegion(buf: Buffer, start: number, end: number, items: unknown[], last: boolean): void {
    let text: string;
    if (this.carry.length > 0) {
      this.carry.push(buf.subarray(start, end));
      text = Buffer.concat(this.carry).toString("utf8");
      this.carry = [];
      this.carryBytes = 0;
    } else {
      if (end <= start) return;
      text = buf.toString("utf8", start, end);
    }
    // The last region may be only whitespace (`[ ]`, or the space before `]`).
    if (last && text.trim() === "") return;
    let parsed: unknown[];
    try {
      parsed = JSON.parse("[" + text + "]") as unknown[];
    } catch (error) {
      throw new FlowcapError("HTTP_BODY_INVALID", `${this.source}: an item of the array at ${this.where()} is not valid JSON (${(error as Error).message}) near byte ${this.offset + start}: ${text.slice(0, 200)}`, {
        cause: error,
      });
    }
    for (let k = 0; k < parsed.length; k++) items.push(parsed[k]);
  }

  /** Skips string content from `i`; returns the index after the closing quote, or the chunk's end (inString stays set). */
  private skipString(buf: Buffer, from: number): number {
    let i = from;
    const n = buf.length;
    if (this.escaped) {
      this.escaped = false;
      i++;
    }
    for (;;) {
      const q = buf.indexOf(QUOTE, i);
      if (q === -1) {
        // An odd run of backslashes at the chunk's end escapes the next chunk's first byte.
        let run = 0;
        for (let k = n - 1; k >= i && buf[k] === BACKSLASH; k--) run++;
        this.escaped = run % 2 === 1;
        return n;
      }
      let run = 0;
      for (let k = q - 1; k >= i && buf[k] === BACKSLASH; k--) run++;
      if (run % 2 === 0) {
        this.inString = false;
        return q + 1;
      }
      i = q + 1;
    }
  }

  /** Scans the envelope from `i` until the chunk ends or the target array opens; returns where it stopped. */
  private scanEnvelope(buf: Buffer, from: number): number {
    const n = buf.length;
    let i = from;
    while (i < n) {
      if (this.inString) {
        const start = i;
        i = this.skipString(buf, i);
        if (this.stringIsKey) this.keyParts.push(Buffer.from(buf.subarray(start, i)));
        if (!this.inString) this.endString();
        continue;
      }
      const c = buf[i]!;
      if (isWhitespace(c)) {
        i++;
        continue;
      }
      switch (this.expect) {
        case "done":
          this.fail(`unexpected ${JSON.stringify(String.fromCharCode(c))} after the end of the JSON document`);
        case "colon":
          if (c !== COLON) this.fail(`expected ":" at byte ${this.offset + i}`);
          this.expect = "value";
          i++;
          continue;
        case "key":
          if (c === CLOSE_OBJECT && this.stack.at(-1)!.index === 0) {
            this.closeContainer();
            i++;
            continue;
          }
          if (c !== QUOTE) this.fail(`expected a key at byte ${this.offset + i}`);
          this.inString = true;
          this.stringIsKey = this.stack.at(-1)!.onPath && this.stack.length <= this.tokens.length;
          this.keyParts = this.stringIsKey ? [Buffer.from('"')] : [];
          i++;
          continue;
        case "next": {
          const top = this.stack.at(-1)!;
          if (c === COMMA) {
            top.index++;
            this.expect = top.object ? "key" : "value";
          } else if (c === (top.object ? CLOSE_OBJECT : CLOSE_ARRAY)) this.closeContainer();
          else this.fail(`expected "," or "${top.object ? "}" : "]"}" at byte ${this.offset + i}`);
          i++;
          continue;
        }
        case "value": {
          if (c === CLOSE_ARRAY && this.stack.at(-1)?.object === false && this.stack.at(-1)!.index === 0) {
            // An empty array: `[]`.
            this.closeContainer();
            i++;
            continue;
          }
          const target = this.isTarget();
          if (target) {
            this.found = true;
            if (c === OPEN_ARRAY) {
              this.inItems = true;
              this.depth = 0;
              return i + 1;
            }
            if (!(c === 0x6e /* n(ull) */)) this.fail(`expected an array at ${this.where()}, found ${describe(c)}`);
          }
          if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
            const parent = this.stack.at(-1);
            this.stack.push({ object: c === OPEN_OBJECT, index: 0, key: undefined, onPath: this.childOnPath(parent) });
            this.expect = c === OPEN_OBJECT ? "key" : "value";
            i++;
            continue;
          }
          if (c === QUOTE) {
            this.inString = true;
            this.stringIsKey = false;
            i++;
            continue;
          }
          // A number, true, false or null: skip to its end (JSON.parse of the envelope checks it).
          while (i < n && !isDelimiter(buf[i]!)) i++;
          if (i < n) this.afterValue();
          else this.expect = "scalar";
          continue;
        }
        case "scalar":
          while (i < n && !isDelimiter(buf[i]!)) i++;
          if (i < n) this.afterValue();
      }
    }
    return i;
  }

  private endString(): void {
    if (this.stringIsKey) {
      const top = this.stack.at(-1)!;
      top.key = JSON.parse(Buffer.concat(this.keyParts).toString("utf8")) as string;
      this.keyParts = [];
      this.stringIsKey = false;
      this.expect = "colon";
      return;
    }
    if (this.expect === "key") {
      // A key of an object off the pointer's path: not captured.
      this.expect = "colon";
      return;
    }
    this.afterValue();
  }

  /** Whether the value about to start is the one the pointer names. */
  private isTarget(): boolean {
    if (this.stack.length !== this.tokens.length) return false;
    if (this.stack.length === 0) return true;
    const top = this.stack.at(-1)!;
    return top.onPath && this.childToken(top) === this.tokens[this.stack.length - 1];
  }

  private childToken(frame: Frame): string | undefined {
    return frame.object ? frame.key : String(frame.index);
  }

  private childOnPath(parent: Frame | undefined): boolean {
    if (!parent) return true;
    const depth = this.stack.length - 1;
    return parent.onPath && depth < this.tokens.length && this.childToken(parent) === this.tokens[depth];
  }

  private closeContainer(): void {
    this.stack.pop();
    this.afterValue();
  }

  private afterValue(): void {
    this.expect = this.stack.length === 0 ? "done" : "next";
  }
}

function isDelimiter(c: number): boolean {
  return c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isWhitespace(c);
}

function describe(c: number): string {
  if (c === OPEN_OBJECT) return "an object";
  if (c === QUOTE) return "a string";
  if (c === 0x74 || c === 0x66) return "a boolean";
  return "a number";
}

/**
 * Streams the items of the JSON array at `options.pointer` in a byte stream (an HTTP body), one
 * at a time, without holding the whole document: memory stays at about one chunk plus one item.
 * Returns (as the generator's return value) the rest of the document with the array left empty.
 */
export async function* streamJsonArray<T = unknown>(source: AsyncIterable<Uint8Array | string>, options: JsonArrayStreamOptions = {}): AsyncGenerator<T, unknown, undefined> {
  const splitter = new JsonArraySplitter(options);
  for await (const chunk of source) {
    const items = splitter.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
    for (let k = 0; k < items.length; k++) yield items[k] as T;
  }
  splitter.end();
  return splitter.remainder;
}
