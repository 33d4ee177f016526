import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from "../../protocol/index.js";
import { FlowcapError } from "../../util/errors.js";
import { LBRACE, newMetaFlag, skipComposite, skipWs } from "../jsonBytes.js";

export interface BatchReadOptions {
  /** Where relative paths are resolved; default the current directory. */
  cwd?: string;
  maxLineBytes?: number;
}

/**
 * The local path of a BATCH manifest entry: `file:///abs/path`, `file://relative/path` (as the
 * Meltano SDK writes a relative `root`), or a plain path. Other schemes (s3://, gs://) are
 * refused: the shim reads local files only.
 */
export function batchFilePath(entry: string, cwd = process.cwd()): string {
  if (/^file:\/\/\//i.test(entry) || /^file:\/\/localhost\//i.test(entry)) return fileURLToPath(entry);
  if (/^file:\/\//i.test(entry)) return path.resolve(cwd, decodeURIComponent(entry.slice("file://".length)));
  if (/^file:/i.test(entry)) return path.resolve(cwd, decodeURIComponent(entry.slice("file:".length)));
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap's BATCH names ${entry}: only local files (file://) can be read; configure the tap's batch_config storage root as a local directory`, {
      userFacing: true,
    });
  }
  return path.resolve(cwd, entry);
}

/**
 * Reads one JSONL batch file (gzip-compressed or not: the first bytes tell) and hands each
 * record's bytes to `onRecord` as `line[start, end)`, with whether it has a `_meta` key of its
 * own. Records are raw JSON objects, one per line (not RECORD messages). Returns how many there
 * were. A line that is not a JSON object fails, naming the file and the line.
 */
export async function readBatch(
  entry: string,
  encoding: Record<string, unknown>,
  options: BatchReadOptions,
  onRecord: (line: Buffer, start: number, end: number, hasMeta: boolean) => void,
): Promise<number> {
  const format = typeof encoding.format === "string" ? encoding.format.toLowerCase() : "jsonl";
  if (format !== "jsonl") {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", `the tap wrote a BATCH in format ${JSON.stringify(encoding.format)}: only jsonl batch files can be read; set the tap's batch_config encoding format to jsonl`, {
      userFacing: true,
    });
  }
  const file = batchFilePath(entry, options.cwd);
  let gzip: boolean;
  try {
    const handle = await open(file, "r");
    try {
      const head = Buffer.alloc(2);
      const { bytesRead } = await handle.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", `cannot read the tap's BATCH file ${file}: ${(error as Error).message}`, { userFacing: true, cause: error });
  }
  const raw = createReadStream(file);
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  raw.on("error", (error) => input.destroy(error));
  const splitter = new LineSplitter(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
  const meta = newMetaFlag();
  let lineNo = 0;
  let count = 0;
  const take = (line: Buffer) => {
    lineNo++;
    const start = skipWs(line, 0);
    if (start === line.length) return;
    meta.hasMeta = false;
    const end = line[start] === LBRACE ? skipComposite(line, start, meta) : -1;
    if (end < 0 || skipWs(line, end) !== line.length) {
      const text = line.toString("utf8", 0, Math.min(line.length, 200));
      throw new FlowcapError("SOURCE_OUTPUT_INVALID", `line ${lineNo} of the tap's BATCH file ${file} is not a JSON object: ${text}`, { userFacing: true });
    }
    onRecord(line, start, end, meta.hasMeta);
    count++;
  };
  try {
    for await (const chunk of input) splitter.push(chunk as Buffer, take);
    splitter.end(take);
  } catch (error) {
    if (error instanceof FlowcapError) throw error;
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", `cannot read the tap's BATCH file ${file}: ${(error as Error).message}`, { userFacing: true, cause: error });
  } finally {
    raw.destroy();
  }
  return count;
}
