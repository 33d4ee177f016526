import type { DiscoveredBinding } from "../../protocol/index.js";
import type { Logger } from "../../runtime/index.js";
import { escapePointerToken } from "../../util/jsonPointer.js";
import { documentSchema, recommendedName, ROW_ID_KEY, uniqueName } from "../documents.js";
import type { ResourceConfig } from "./bindings.js";
import { keyProperties, replicationKey, replicationMethod } from "./catalog.js";
import { modernSchema } from "./schema.js";
import type { SingerCatalogEntry } from "./types.js";

/**
 * A tap's catalog as Flow's discovered bindings, one per entry (`tap_stream_id`):
 *
 * - `key`: the stream's `key_properties`, else its `table-key-properties` metadata, as JSON
 *   pointers; a stream with neither is keyed by `/_meta/row_id`.
 * - `resourceConfig`: `{stream: <tap_stream_id>, replication_method?, replication_key?}`, the
 *   method and key as the catalog chooses or the tap forces them (left to the tap otherwise).
 * - The document schema is the stream's schema (in Flow's JSON Schema dialect: see
 *   `modernSchema`) with `_meta.row_id` declared, the key properties
 *   required, and the rule that a `_meta.op: "d"` document (an ACTIVATE_VERSION deletion, or a
 *   refresh's) deletes its row.
 * - `recommendedName` is the `tap_stream_id`, cleaned to the characters Flow accepts in a
 *   collection name, and made unique.
 */
export function discoveredBindings(entries: readonly SingerCatalogEntry[], log: Logger): DiscoveredBinding[] {
  const names = new Set<string>();
  return entries.map((entry) => {
    const keys = keyProperties(entry);
    const resourceConfig: ResourceConfig = { stream: entry.tap_stream_id };
    const method = replicationMethod(entry);
    if (method) resourceConfig.replication_method = method;
    const rkey = replicationKey(entry);
    if (rkey && method !== "FULL_TABLE") resourceConfig.replication_key = rkey;
    if (!keys.length) log.debug(`stream ${JSON.stringify(entry.tap_stream_id)} has no key properties: keying it by ${ROW_ID_KEY}`);
    const wanted = recommendedName(entry.tap_stream_id);
    const name = uniqueName(wanted, names);
    if (name !== wanted) log.warn(`stream ${JSON.stringify(entry.tap_stream_id)} is recommended as ${name}: ${wanted} is taken`);
    return {
      recommendedName: name,
      resourceConfig: resourceConfig as unknown as Record<string, unknown>,
      documentSchema: documentSchema(modernSchema(entry.schema), { deletions: true, keyProperties: keys }),
      key: keys.length ? keys.map((k) => "/" + escapePointerToken(k)) : [ROW_ID_KEY],
      resourcePath: [entry.tap_stream_id],
    };
  });
}
