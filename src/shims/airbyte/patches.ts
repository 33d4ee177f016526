/**
 * `spec` and `discover` with an airbyte-to-flow patch set (`flowcap airbyte --patches DIR`), as
 * Estuary's Rust shim answered them (`adapt_spec_response_stream` and
 * `adapt_discover_response_stream` in `airbyte-to-flow/src/interceptors/airbyte_source_interceptor.rs`,
 * estuary/airbyte commit 1465a983e627c51f6f10a398048aafcdc21ccc84), so a task moved off that
 * shim keeps its config, collections and keys.
 */
import type { DiscoveredBinding } from "../../protocol/index.js";
import type { ConnectorSpec, Logger } from "../../runtime/index.js";
import { FlowcapError } from "../../util/errors.js";
import { applyMergePatch, isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { documentSchema, ROW_ID_KEY, uniqueName } from "../documents.js";
import { resourcePathOf, type ResourceConfig } from "./bindings.js";
import { keyPointers } from "./discover.js";
import { documentPatch, patchedKey, type AirbytePatchSet } from "./patchSet.js";
import { atfRecommendedName, dateToDateTime, fixDocumentSchemaKeys, fixNonstandardAttributes, removeEnums } from "./patchedSchema.js";
import { flowSpec, type SpecMappingOptions } from "./spec.js";
import type { AirbyteCatalog, AirbyteConnectorSpecification, AirbyteStream } from "./types.js";

/**
 * The spec: the source's `connectionSpecification` with `spec.patch.json` merged in (RFC 7396)
 * and Airbyte's own keywords removed (`fixNonstandardAttributes`); `oauth2.patch.json` as the
 * spec's `oauth2` and `documentation_url.patch.json` as its documentation URL (options given
 * to flowcap win over both). The rest is the shim's usual spec (see `flowSpec`).
 */
export function patchedSpec(spec: AirbyteConnectorSpecification, set: AirbytePatchSet, options: SpecMappingOptions, log: Logger): ConnectorSpec {
  if (!isPlainObject(spec) || !isPlainObject(spec.connectionSpecification)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", "the source's SPEC has no connectionSpecification object", { userFacing: true });
  }
  const schema = set.specPatch === undefined ? structuredClone(spec.connectionSpecification) : structuredClone(applyMergePatch(spec.connectionSpecification, set.specPatch));
  if (!isPlainObject(schema)) throw new FlowcapError("CONFIG_INVALID", `${set.dir}/spec.patch.json turns the config schema into something that is not an object`, { userFacing: true });
  fixNonstandardAttributes(schema);
  return flowSpec({ ...spec, connectionSpecification: schema }, { oauth2: options.oauth2 ?? set.oauth2, documentationUrl: options.documentationUrl ?? set.documentationUrl }, log);
}

/**
 * The discovered bindings, one per stream, as airbyte-to-flow makes them:
 *
 * - streams in `omitted_streams.json` are left out; with `selected_streams.json`, the others are
 *   discovered disabled;
 * - `recommendedName` is `atfRecommendedName(stream)` (no namespace; characters Flow refuses are
 *   dropped), and the `streams/<name>.…` files are found by it;
 * - `syncMode` is incremental when the stream supports it;
 * - the key is `streams/<name>.pk.json` (each field path made `/<path>`, unescaped, as the Rust
 *   code does), else `streams/*.pk.json`, else the stream's `source_defined_primary_key`;
 * - `cursorField` is the stream's `default_cursor_field`, or when it has none (or an empty one),
 *   the key's pointers without their leading `/`;
 * - the document schema is the stream's `json_schema` merged with `streams/<name>.patch.json`
 *   (else `streams/*.patch.json`), with Airbyte's keywords and every `enum` removed, `format: date`
 *   made `date-time` when `schema_normalizations.json` says `date-to-datetime`, and the key's
 *   properties made required and non-null (`fixDocumentSchemaKeys`).
 *
 * Where flowcap departs, on purpose: a stream with no key at all (no `.pk.json`, none of its own)
 * is captured by full refresh keyed by `/_meta/row_id` (airbyte-to-flow discovered an empty key,
 * which Flow refuses to publish); every schema declares the `_meta.row_id` that flowcap's
 * documents carry; a recommended name taken twice gets a `_2` suffix (Flow refuses duplicates).
 */
export function patchedBindings(catalog: AirbyteCatalog, set: AirbytePatchSet, log: Logger): DiscoveredBinding[] {
  if (!isPlainObject(catalog) || !Array.isArray(catalog.streams)) {
    throw new FlowcapError("SOURCE_OUTPUT_INVALID", "the source's CATALOG has no streams list", { userFacing: true });
  }
  const names = new Set<string>();
  const out: DiscoveredBinding[] = [];
  for (const [i, raw] of catalog.streams.entries()) {
    if (!isPlainObject(raw) || typeof raw.name !== "string" || raw.name === "") {
      log.warn(`leaving out catalog stream #${i}: it has no name`);
      continue;
    }
    const stream = raw as AirbyteStream;
    if (set.omittedStreams?.includes(stream.name)) continue;
    const binding = patchedBinding(stream, set, log);
    if (!binding) continue;
    const name = uniqueName(binding.recommendedName, names);
    if (name !== binding.recommendedName) log.warn(`stream ${JSON.stringify(stream.name)} is recommended as ${name}: ${binding.recommendedName} is taken`);
    out.push({ ...binding, recommendedName: name });
  }
  return out;
}

function patchedBinding(stream: AirbyteStream, set: AirbytePatchSet, log: Logger): DiscoveredBinding | undefined {
  const recommendedName = atfRecommendedName(stream.name) || "stream";
  const modes = Array.isArray(stream.supported_sync_modes) ? stream.supported_sync_modes : [];
  const override = patchedKey(set, recommendedName);
  let key = override ? override.map((path) => `/${path}`) : keyPointers(stream.source_defined_primary_key);
  let syncMode: ResourceConfig["syncMode"] = modes.includes("incremental") ? "incremental" : "full_refresh";
  let cursorField: string[] | undefined;
  const rowIdKeyed = key.length === 0;
  if (rowIdKeyed) {
    if (modes.length > 0 && !modes.includes("full_refresh")) {
      log.warn(`leaving out stream ${JSON.stringify(stream.name)}: it supports only incremental reads and has no primary key (add streams/${recommendedName}.pk.json to give it one)`);
      return undefined;
    }
    log.info(`stream ${JSON.stringify(stream.name)} has no primary key and no streams/${recommendedName}.pk.json: capturing it by full refresh, keyed by ${ROW_ID_KEY}`);
    key = [ROW_ID_KEY];
    syncMode = "full_refresh";
  } else {
    const declared = Array.isArray(stream.default_cursor_field) && stream.default_cursor_field.length > 0 ? stream.default_cursor_field : undefined;
    cursorField = declared ?? key.map((pointer) => pointer.slice(1));
  }

  let schema: unknown = structuredClone(stream.json_schema ?? {});
  const patch = documentPatch(set, recommendedName);
  if (patch !== undefined) schema = applyMergePatch(schema, patch);
  if (!isPlainObject(schema)) {
    throw new FlowcapError("CATALOG_INVALID", `stream ${JSON.stringify(stream.name)}: its document schema is not an object${patch !== undefined ? " after its .patch.json" : ""}`, { userFacing: true });
  }
  fixNonstandardAttributes(schema);
  removeEnums(schema);
  if (set.schemaNormalizations.includes("date-to-datetime")) dateToDateTime(schema);
  const fixed: JsonObject = rowIdKeyed ? schema : fixDocumentSchemaKeys(schema, key, stream.name);

  const resourceConfig: ResourceConfig = { stream: stream.name, syncMode };
  if (typeof stream.namespace === "string" && stream.namespace) resourceConfig.namespace = stream.namespace;
  if (cursorField) resourceConfig.cursorField = cursorField;
  const binding: DiscoveredBinding = {
    recommendedName,
    resourceConfig: resourceConfig as unknown as Record<string, unknown>,
    documentSchema: documentSchema(fixed, { deletions: rowIdKeyed }),
    key,
    resourcePath: resourcePathOf(resourceConfig),
  };
  if (set.selectedStreams && !set.selectedStreams.includes(stream.name)) binding.disable = true;
  return binding;
}
