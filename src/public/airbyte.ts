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
export {
  createAirbyteConnector,
  childSource,
  farosSource,
  redactConfig,
  loadPatchSet,
  ROW_ID_KEY,
  type AirbyteConnectorOptions,
  type ChildSourceOptions,
  type FarosSourceLike,
  type FarosSourceOptions,
  type FarosCdkHelpers,
  type AirbyteSource,
  type AirbyteSourceContext,
  type AirbyteReadContext,
  type AirbyteReadOutcome,
  type AirbyteMessageSink,
  type StateInputFile,
  type StateKind,
  type AirbytePatchSet,
  type DocumentNormalization,
} from "../shims/airbyte/index.js";
export type * from "../shims/airbyte/types.js";
