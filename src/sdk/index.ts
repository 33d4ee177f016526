/** What connector authors use: defineConnector, defineResource, typed config and state. */
export { defineConnector, DEFAULT_RESOURCE_CONFIG_SCHEMA, type ConnectorDefinition, type DefinedConnector, type AnyResource } from "./connector.js";
export { defineResource, Checkpoint, type Resource, type ResourceDefinition, type BindingContext, type CaptureFn } from "./resource.js";
export { parseWithSchema, checkWithSchema } from "./config.js";
export type { FromSchema, JsonSchema, JsonSchemaObject, JsonType } from "./schema.js";
export { emitConfigUpdate, encryptConfig, sortKeys, DEFAULT_ENCRYPTION_URL, type EncryptOptions } from "./configUpdate.js";
export * from "./http/index.js";
