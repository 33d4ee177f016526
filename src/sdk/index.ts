/** What connector authors use: defineConnector, defineResource, typed config and state. */
export { defineConnector, DEFAULT_RESOURCE_CONFIG_SCHEMA, type ConnectorDefinition, type DefinedConnector, type AnyResource } from "./connector.js";
export { defineResource, Checkpoint, type Resource, type ResourceDefinition, type BindingContext, type CaptureFn } from "./resource.js";
export { parseWithSchema, checkWithSchema } from "./config.js";
export type { FromSchema, JsonSchema, JsonSchemaObject, JsonType } from "./schema.js";
export { emitConfigUpdate, encryptConfig, sortKeys, DEFAULT_ENCRYPTION_URL, type EncryptOptions } from "./configUpdate.js";
export {
  createHttpClient,
  HttpStatusError,
  RateLimiter,
  staticTokenSource,
  normalizeTokenType,
  redactUrl,
  parseRetryAfter,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type HttpClient,
  type HttpClientOptions,
  type RequestOptions,
  type RetryContext,
  type HttpResponse,
  type StreamingResponse,
  type HttpHeaders,
  type QueryParams,
  type RateLimiterOptions,
  type TokenSource,
  type AccessToken,
} from "./http/index.js";
