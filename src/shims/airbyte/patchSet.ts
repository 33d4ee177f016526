import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { OAuth2 } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { ConfigError } from "../../util/errors.js";
import { isPlainObject } from "../../util/mergePatch.js";

/**
 * A patch set of Estuary's airbyte-to-flow shim: the files that sat beside an Airbyte image in
 * `estuary/airbyte` (`airbyte-integrations/connectors/source-*`) and configured how the Rust shim
 * turned that image into a Flow connector. Read from `airbyte-to-flow/src/interceptors/
 * airbyte_source_interceptor.rs` and `connector_runner.rs` at estuary/airbyte commit
 * 1465a983e627c51f6f10a398048aafcdc21ccc84:
 *
 * | file                              | what airbyte-to-flow does with it                                        |
 * |-----------------------------------|--------------------------------------------------------------------------|
 * | `spec.patch.json`                 | RFC 7396 merge patch into the source's `connectionSpecification`          |
 * | `spec.map.json`                   | `{flowPointer: sourcePointer}`: Flow's config is remapped before the source sees it |
 * | `oauth2.patch.json`               | the spec's `oauth2` (replaces the source's `authSpecification`)           |
 * | `documentation_url.patch.json`    | `{"documentation_url": URL}`                                             |
 * | `schema_normalizations.json`      | `["date-to-datetime"]`: `format: date` becomes `date-time` in document schemas |
 * | `selected_streams.json`           | streams discovered enabled; the others are discovered `disable: true`   |
 * | `omitted_streams.json`            | streams left out of discovery                                            |
 * | `run_interval_minutes.json`       | a capture lasts at least this many minutes (the source's rate limits)    |
 * | `streams/<name>.pk.json`          | the collection key: field paths, each made `/<path>`                     |
 * | `streams/<name>.patch.json`       | merge patch into the stream's document schema                            |
 * | `streams/<stream>.normalize.json` | `[{pointer, normalization: "datetime_to_date"}]` applied to each record  |
 * | `streams/*.pk.json`, `streams/*.patch.json` | for every stream without its own file                         |
 *
 * `<name>` is the stream's recommended collection name (`atfRecommendedName`); `.normalize.json`
 * alone is looked up by the raw stream name, as the Rust code does. `streams/*.…` may also be
 * spelled `streams/__star__.…` (a file name with `*` does not survive every file system or
 * archive). Every file is optional.
 */
export interface AirbytePatchSet {
  /** The folder it was read from (for messages). */
  dir: string;
  specPatch?: unknown;
  /** `{flowPointer: sourcePointer}`. */
  specMap?: Record<string, string>;
  oauth2?: OAuth2;
  documentationUrl?: string;
  /** Known values: `date-to-datetime`. */
  schemaNormalizations: string[];
  selectedStreams?: string[];
  omittedStreams?: string[];
  runIntervalMinutes?: number;
  /** Per recommended name (or `*`): the key's field paths. */
  keys: Map<string, string[]>;
  /** Per recommended name (or `*`): the document schema merge patch. */
  documentPatches: Map<string, unknown>;
  /** Per raw stream name: record normalizations. */
  normalizations: Map<string, DocumentNormalization[]>;
}

/** A record normalization of `streams/<stream>.normalize.json`. */
export interface DocumentNormalization {
  pointer: string;
  /** The only one airbyte-to-flow knows: a date-time string cut to its `YYYY-MM-DD`. */
  normalization: "datetime_to_date";
}

/** The star that stands for every stream in `streams/*.…`. */
export const ALL_STREAMS = "*";
const STAR_ALIAS = "__star__";

const KNOWN_TOP_LEVEL = new Set([
  "spec.patch.json",
  "spec.map.json",
  "oauth2.patch.json",
  "documentation_url.patch.json",
  "schema_normalizations.json",
  "selected_streams.json",
  "omitted_streams.json",
  "run_interval_minutes.json",
]);

/**
 * Reads an airbyte-to-flow patch set from `dir`. A file that is there but does not parse, or
 * has the wrong shape, fails with its path and what was expected (airbyte-to-flow fails the
 * request that reads it); a file under `streams/` that matches no known suffix is reported with a
 * warning, since airbyte-to-flow would silently never read it.
 */
export async function loadPatchSet(dir: string, log?: Logger): Promise<AirbytePatchSet> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new ConfigError(`${dir} is not a folder`, { subject: "--patches", code: "CONFIG_INVALID" });

  const read = async (name: string): Promise<unknown> => {
    const file = path.join(root, name);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw problem(file, `cannot be read: ${(error as Error).message}`);
    }
    if (name === "run_interval_minutes.json") return text;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw problem(file, `is not JSON: ${(error as Error).message}`);
    }
  };
  const file = (name: string) => path.join(root, name);

  const set: AirbytePatchSet = { dir: root, schemaNormalizations: [], keys: new Map(), documentPatches: new Map(), normalizations: new Map() };
  set.specPatch = await read("spec.patch.json");

  const map = await read("spec.map.json");
  if (map !== undefined) {
    if (!isPlainObject(map) || !Object.values(map).every((v) => typeof v === "string")) throw problem(file("spec.map.json"), 'must map Flow config pointers to source config pointers, as {"/flow/pointer": "/source/pointer"}');
    for (const [to, from] of Object.entries(map)) {
      if ((to !== "" && !to.startsWith("/")) || !(from as string).startsWith("/")) throw problem(file("spec.map.json"), `${JSON.stringify(to)}: ${JSON.stringify(from)} is not a pair of JSON pointers`);
    }
    set.specMap = map as Record<string, string>;
  }

  const oauth2 = await read("oauth2.patch.json");
  if (oauth2 !== undefined) {
    if (!isPlainObject(oauth2) || typeof oauth2.provider !== "string" || typeof oauth2.authUrlTemplate !== "string" || typeof oauth2.accessTokenUrlTemplate !== "string") {
      throw problem(file("oauth2.patch.json"), "must be Flow's oauth2 object (provider, authUrlTemplate, accessTokenUrlTemplate, ...)");
    }
    set.oauth2 = oauth2 as unknown as OAuth2;
  }

  const docs = await read("documentation_url.patch.json");
  if (docs !== undefined) {
    if (!isPlainObject(docs) || typeof docs.documentation_url !== "string" || docs.documentation_url === "") throw problem(file("documentation_url.patch.json"), 'must be {"documentation_url": "https://..."}');
    set.documentationUrl = docs.documentation_url;
  }

  const normalizations = await read("schema_normalizations.json");
  if (normalizations !== undefined) {
    set.schemaNormalizations = stringList(normalizations, file("schema_normalizations.json"));
    for (const n of set.schemaNormalizations) {
      if (n !== "date-to-datetime") log?.warn(`${file("schema_normalizations.json")}: ignoring ${JSON.stringify(n)}, which airbyte-to-flow does not know (it knows "date-to-datetime")`);
    }
  }
  const selected = await read("selected_streams.json");
  if (selected !== undefined) set.selectedStreams = stringList(selected, file("selected_streams.json"));
  const omitted = await read("omitted_streams.json");
  if (omitted !== undefined) set.omittedStreams = stringList(omitted, file("omitted_streams.json"));

  const interval = await read("run_interval_minutes.json");
  if (interval !== undefined) {
    const text = (interval as string).trim();
    if (!/^[0-9]+$/.test(text)) throw problem(file("run_interval_minutes.json"), `must hold a whole number of minutes, not ${JSON.stringify(text)}`);
    set.runIntervalMinutes = Number(text);
  }

  await readStreams(root, set, log);
  if (log) {
    const present = (await readdir(root)).filter((f) => KNOWN_TOP_LEVEL.has(f) || f === "streams");
    log.debug(`read the airbyte-to-flow patch set in ${root}`, { files: present });
  }
  return set;
}

/** The `streams/` folder, recursively: stream names may contain `/`, and so do recommended names. */
async function readStreams(root: string, set: AirbytePatchSet, log: Logger | undefined): Promise<void> {
  const streamsDir = path.join(root, "streams");
  let entries: string[];
  try {
    entries = (await readdir(streamsDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(streamsDir, path.join(e.parentPath, e.name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw problem(streamsDir, `cannot be read: ${(error as Error).message}`);
  }
  for (const relative of entries.sort()) {
    const name = relative.split(path.sep).join("/");
    const full = path.join(streamsDir, relative);
    const suffix = [".pk.json", ".patch.json", ".normalize.json"].find((s) => name.endsWith(s));
    if (!suffix) {
      log?.warn(`${full}: not a patch file (airbyte-to-flow reads streams/<name>.pk.json, .patch.json and .normalize.json only); ignoring it`);
      continue;
    }
    let stream = name.slice(0, -suffix.length);
    if (stream === STAR_ALIAS) stream = ALL_STREAMS;
    let value: unknown;
    try {
      value = JSON.parse(await readFile(full, "utf8")) as unknown;
    } catch (error) {
      throw problem(full, `is not JSON: ${(error as Error).message}`);
    }
    const duplicate = (map: Map<string, unknown>) => {
      if (map.has(stream)) throw problem(full, `and streams/${stream === ALL_STREAMS ? "*" : stream}${suffix} say the same thing twice: keep one (${STAR_ALIAS} stands for *)`);
    };
    switch (suffix) {
      case ".pk.json":
        duplicate(set.keys);
        set.keys.set(stream, stringList(value, full));
        break;
      case ".patch.json":
        duplicate(set.documentPatches);
        set.documentPatches.set(stream, value);
        break;
      default: {
        if (stream === ALL_STREAMS) log?.warn(`${full}: airbyte-to-flow has no normalizations for every stream (only streams/<stream>.normalize.json); ignoring it`);
        if (!Array.isArray(value) || !value.every((e) => isPlainObject(e) && typeof e.pointer === "string" && e.normalization === "datetime_to_date")) {
          throw problem(full, 'must be a list of {"pointer": "/a/json/pointer", "normalization": "datetime_to_date"} (the only normalization airbyte-to-flow knows)');
        }
        if (stream !== ALL_STREAMS) set.normalizations.set(stream, value as DocumentNormalization[]);
      }
    }
  }
}

/** The stream's key override (`streams/<name>.pk.json`, else `streams/*.pk.json`), as airbyte-to-flow reads it. */
export function patchedKey(set: AirbytePatchSet, recommendedName: string): string[] | undefined {
  return set.keys.get(recommendedName) ?? set.keys.get(ALL_STREAMS);
}

/** The stream's document schema patch (`streams/<name>.patch.json`, else `streams/*.patch.json`). */
export function documentPatch(set: AirbytePatchSet, recommendedName: string): unknown {
  return set.documentPatches.has(recommendedName) ? set.documentPatches.get(recommendedName) : set.documentPatches.get(ALL_STREAMS);
}

function stringList(value: unknown, file: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) throw problem(file, "must be a JSON list of strings");
  return value as string[];
}

function problem(file: string, message: string): ConfigError {
  return new ConfigError([{ path: file, message }], { subject: "the airbyte-to-flow patch set", code: "CONFIG_INVALID" });
}

