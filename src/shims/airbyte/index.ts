/**
 * `flowcap/airbyte`: run any Airbyte source as a Flow capture connector.
 *
 * ```ts
 * import { serve } from "flowcap";
 * import { createAirbyteConnector, childSource } from "flowcap/airbyte";
 *
 * await serve(createAirbyteConnector(childSource({ argv: ["python3", "main.py"] })));
 * ```
 *
 * or, for a source written with `faros-airbyte-cdk`, in this process:
 *
 * ```ts
 * await serve(createAirbyteConnector(farosSource(new MySource(new AirbyteSourceLogger()))));
 * ```
 */
export { createAirbyteConnector, mergeConfig, type AirbyteConnectorOptions } from "./connector.js";
export { childSource, type ChildSourceOptions } from "./childSource.js";
export { farosSource, redactConfig, type FarosSourceLike, type FarosSourceOptions, type FarosCdkHelpers } from "./faros.js";
export type { AirbyteSource, AirbyteSourceContext, AirbyteReadContext, AirbyteReadOutcome } from "./source.js";
export { AirbyteReadSession, type AirbyteMessageSink, type ReadSessionOptions } from "./session.js";
export { AirbyteStateKeeper, decodeCompressedState, BINDINGS_SLOT, GLOBAL_SLOT, type StateKind, type StateInputFile, type StateKeeperOptions, type StateCheckpoint, type StateBinding } from "./state.js";
export { flowSpec, FALLBACK_DOCUMENTATION_URL, type SpecMappingOptions } from "./spec.js";
export { deriveOAuth2, type OAuth2Derivation } from "./oauth.js";
export { discoveredBindings, keyPointers, recommendedName, documentSchema } from "./discover.js";
export { RESOURCE_CONFIG_SCHEMA, RESOURCE_PATH_POINTERS, ROW_ID_KEY, configuredCatalog, shimBindings, resourcePathOf, type ResourceConfig, type ShimBinding } from "./bindings.js";
export { scanRecord, spliceMeta, RecordSpan } from "./recordScanner.js";
export { loadPatchSet, type AirbytePatchSet, type DocumentNormalization } from "./patchSet.js";
export { patchedSpec, patchedBindings } from "./patches.js";
export { atfRecommendedName, fixDocumentSchemaKeys, remapConfig, unmapConfig } from "./patchedSchema.js";
export { createDocumentNormalizer, type DocumentNormalizer } from "./patchedDocuments.js";
export type * from "./types.js";
