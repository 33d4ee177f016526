/**
 * Flow's capture protocol: the wire types (generated from `schemas/`), the NDJSON codec, the
 * state-key encoding and the protocol's errors. Knows nothing of connectors, shims or hosts.
 */
export type * from "./generated/types.js";
export { decodeRequest, REQUEST_VARIANTS, type DecodedRequest, type RequestVariant } from "./decode.js";
export {
  encodeResponse,
  capturedDocJson,
  encodeCheckpoint,
  encodeSourcedSchema,
  capturedPrefix,
  CAPTURED_SUFFIX,
  PROTOCOL_VERSION,
  RESPONSE_VARIANTS,
  type EncodeOptions,
  type ResponseVariant,
} from "./encode.js";
export { LineSplitter, LineBatch, readLines, DEFAULT_MAX_LINE_BYTES, type Line } from "./lineReader.js";
export { stateKey } from "./stateKey.js";
export { RequestDecodeError, LineTooLongError } from "./errors.js";
export { createSchemaCompiler } from "./jsonSchema.js";
export { inspectResponse, type ResponseIssue, type ResponseInspection } from "./inspect.js";
