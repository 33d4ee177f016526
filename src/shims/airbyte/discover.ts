import type { DiscoveredBinding } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { escapePointerToken, parsePointer, toPointer } from "../../util/jsonPointer.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { documentSchema as sharedDocumentSchema, recommendedName, ROW_ID_KEY, uniqueName } from "../documents.js";
import { resourcePathOf, type ResourceConfig } from "./bindings.js";

export { recommendedName } from "../documents.js";
import type { AirbyteCatalog, AirbyteStream, AirbyteSyncMode } from "./types.js";

/**
 * A source's catalog as Flow's discovered bindings, one per stream:
 *
 * - `key`: the stream's `source_defined_primary_key` as RFC 6901 pointers (`~` → `~0`, `/` →
 *   `~1`), whether written as a field name, a list of field names or a list of paths.
 * - A stream without a key is captured by full refresh, keyed by `/_meta/row_id` (so each
 *   refresh replaces the previous one). An incremental-only stream without a key cannot be
 *   keyed: it is left out with a warning naming it; discover goes on.
 * - `syncMode` is incremental when the stream supports it and has a key, else full refresh;
 *   `cursorField` is the stream's `default_cursor_field`; `namespace` is kept when set.
 * - The document schema is the stream's `json_schema` with `_meta.row_id` added, and, for streams
 *   captured by full refresh (keyed by row id or by their own key), the deletion rule of their
 *   refreshes, with the key required.
 * - `recommendedName` is `[namespace/]stream`, cleaned to the characters Flow accepts in a
 *   collection name, and made unique.
 */
export function discoveredBindings(catalog: AirbyteCatalog, log: Logger): DiscoveredBinding[] {
  if (!isPlainObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", "the source's CATALOG has no streams list", { userFacing: true });
  }
  const out: DiscoveredBinding[] = [];
  const names = new Set<string>();
  for (const [i, stream] of catalog.streams.entries()) {
    if (!isPlainObject(stream) || typeof stream.name !== "string" || stream.name === "") {
      log.warn(`leaving out catalog stream #${i}: it has no name`);
      continue;
    }
    const binding = discoveredBinding(stream as AirbyteStream, log);
    if (!binding) continue;
    const name = uniqueName(binding.recommendedName, names);
    if (name !== binding.recommendedName) log.warn(`stream ${JSON.stringify(stream.name)} is recommended as ${name}: ${binding.recommendedName} is taken`);
    out.push({ ...binding, recommendedName: name });
  }
  return out;
}

function discoveredBinding(stream: AirbyteStream, log: Logger): DiscoveredBinding | undefined {
  const modes: AirbyteSyncMode[] = Array.isArray(stream.supported_sync_modes) && stream.supported_sync_modes.length ? stream.supported_sync_modes : ["full_refresh"];
  const keyed = keyPointers(stream.source_defined_primary_key);
  let syncMode: AirbyteSyncMode;
  let key: string[];
  if (keyed.length > 0) {
    key = keyed;
    syncMode = modes.includes("incremental") ? "incremental" : "full_refresh";
  } else if (modes.includes("full_refresh")) {
    key = [ROW_ID_KEY];
    syncMode = "full_refresh";
    if (modes.includes("incremental")) log.info(`stream ${JSON.stringify(stream.name)} has no primary key: capturing it by full refresh, keyed by ${ROW_ID_KEY}`);
  } else {
    log.warn(`leaving out stream ${JSON.stringify(stream.name)}: it supports only incremental reads and has no primary key, so its documents cannot be keyed`);
    return undefined;
  }
  const resourceConfig: ResourceConfig = { stream: stream.name, syncMode };
  if (typeof stream.namespace === "string" && stream.namespace) resourceConfig.namespace = stream.namespace;
  const cursor = cursorPath(stream.default_cursor_field);
  if (cursor) resourceConfig.cursorField = cursor;
  return {
    recommendedName: recommendedName(stream.name, resourceConfig.namespace),
    resourceConfig: resourceConfig as unknown as Record<string, unknown>,
    documentSchema: documentSchema(stream.json_schema, syncMode === "full_refresh", key),
    key,
    resourcePath: resourcePathOf(resourceConfig),
  };
}

/** A cursor field as a path: a list of field names, or a single name (which sources also write). */
function cursorPath(value: unknown): string[] | undefined {
  if (typeof value === "string" && value) return [value];
  if (Array.isArray(value) && value.length && value.every((v) => typeof v === "string")) return value as string[];
  return undefined;
}

/**
 * A primary key as JSON pointers: `"id"` → `["/id"]`; `["a", "b"]` → `["/a", "/b"]` (one field
 * each); `[["a", "b"], ["c"]]` → `["/a/b", "/c"]` (a path each). Tokens are escaped.
 */
export function keyPointers(pk: unknown): string[] {
  if (typeof pk === "string") return pk === "" ? [] : ["/" + escapePointerToken(pk)];
  if (!Array.isArray(pk)) return [];
  const out: string[] = [];
  for (const component of pk) {
    if (typeof component === "string") out.push("/" + escapePointerToken(component));
    else if (Array.isArray(component) && component.length > 0 && component.every((t) => typeof t === "string" || typeof t === "number")) out.push(toPointer(component));
  }
  return out;
}

/**
 * A stream's document schema: its `json_schema` with `_meta.row_id` declared and its primary key
 * (`key`, as pointers) required and not nullable (Flow refuses a key that may not exist). With
 * `deletions` (a full-refresh stream, whose complete refreshes delete the rows they no longer
 * have) it also gets the rule that a `_meta.op: "d"` document deletes its row, and its root
 * `required` moves under `else` but for its top-level key properties, so such a deletion (which
 * carries only the key and `_meta`) is valid.
 */
export function documentSchema(jsonSchema: unknown, deletions: boolean, key: readonly string[] = []): JsonObject {
  const own = key[0] === ROW_ID_KEY ? [] : key;
  return sharedDocumentSchema(jsonSchema, { deletions, keyProperties: deletions ? topLevelKeys(own) : [], keyPointers: own });
}

/** The properties of a key's single-token pointers (`/id`, not `/a/b`). */
function topLevelKeys(key: readonly string[]): string[] {
  return key.map((p) => parsePointer(p)).filter((t) => t.length === 1).map((t) => t[0]!);
}
