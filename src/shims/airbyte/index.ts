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
export { createAirbyteConnector, type AirbyteConnectorOptions } from "./connector.js";
export { childSource, type ChildSourceOptions } from "./childSource.js";
export { farosSource, redactConfig, type FarosSourceLike, type FarosSourceOptions, type FarosCdkHelpers } from "./faros.js";
export type { AirbyteSource, AirbyteSourceContext, AirbyteReadContext, AirbyteReadOutcome } from "./source.js";
export type { AirbyteMessageSink } from "./session.js";
export type { StateKind, StateInputFile } from "./state.js";
export { RESOURCE_CONFIG_SCHEMA, ROW_ID_KEY } from "./bindings.js";
export { loadPatchSet, type AirbytePatchSet, type DocumentNormalization } from "./patchSet.js";
export type * from "./types.js";
