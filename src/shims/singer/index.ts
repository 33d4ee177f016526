/**
 * `flowcap/singer`: run any Singer tap, in any language, as a Flow capture connector.
 *
 * ```ts
 * import { serve } from "flowcap";
 * import { childTap, createSingerConnector } from "flowcap/singer";
 *
 * await serve(createSingerConnector(childTap({ argv: ["tap-github"] })));
 * ```
 */
export { createSingerConnector, fallbackConfigSchema, FALLBACK_DOCUMENTATION_URL, type SingerConnectorOptions } from "./connector.js";
export { childTap, parseJsonOutput, tapFailure, DEFAULT_PROBE_TIMEOUT_MS, type ChildTapOptions, type SingerTap, type SingerTapContext, type SingerLineSink, type CatalogArgument } from "./tap.js";
export { SingerSyncSession, DEFAULT_MAX_TRACKED_KEYS, keyJson, deletionDocument, type SyncSessionOptions } from "./session.js";
export { SingerStateKeeper, BINDINGS_SLOT, GLOBAL_SLOT, type SingerStateBinding } from "./state.js";
export { discoveredBindings } from "./discover.js";
export { modernSchema } from "./schema.js";
export { RESOURCE_CONFIG_SCHEMA, RESOURCE_PATH_POINTERS, checkResourceConfig, shimBindings, versionMode, type ResourceConfig, type SingerBinding, type VersionMode } from "./bindings.js";
export {
  catalogEntries,
  syncCatalog,
  keyProperties,
  replicationMethod,
  replicationKey,
  recordNames,
  streamMetadata,
  flag,
  type StreamSelection,
  type SyncCatalogOptions,
} from "./catalog.js";
export { scanSingerRecord, SingerRecordSpan } from "./recordScanner.js";
export { readBatch, batchFilePath } from "./batch.js";
export { ROW_ID_KEY } from "../documents.js";
export type * from "./types.js";
