/**
 * `flowcap/protocol`: Flow's capture protocol. The wire types (generated from `schemas/`), the
 * request decoder and response encoder, the NDJSON line reader, the state-key encoding, a
 * response inspector, and the protocol's errors. Knows nothing of connectors, shims or hosts.
 */
export type * from "../protocol/generated/types.js";
export {
  decodeRequest,
  REQUEST_VARIANTS,
  encodeResponse,
  PROTOCOL_VERSION,
  RESPONSE_VARIANTS,
  LineSplitter,
  readLines,
  DEFAULT_MAX_LINE_BYTES,
  stateKey,
  RequestDecodeError,
  LineTooLongError,
  inspectResponse,
  type DecodedRequest,
  type RequestVariant,
  type EncodeOptions,
  type ResponseVariant,
  type Line,
  type ResponseIssue,
  type ResponseInspection,
} from "../protocol/index.js";
