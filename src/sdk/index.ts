/** What connector authors use: defineConnector, defineResource, typed config and state. */
export { defineConnector, DEFAULT_RESOURCE_CONFIG_SCHEMA, type ConnectorDefinition, type DefinedConnector, type AnyResource } from "./connector.js";
export {
  defineResource,
  Checkpoint,
  SourcedSchema,
  type Resource,
  type ResourceDefinition,
  type BindingContext,
  type BindingInfo,
  type BindingTask,
  type CaptureFn,
} from "./resource.js";
export {
  defineIncrementalResource,
  type IncrementalResourceDefinition,
  type FetchChanges,
  type FetchPage,
  type InitialCursor,
  type ResourceState,
  type IncrementalState,
  type BackfillState,
  type SnapshotState,
} from "./incremental.js";
export { defineSnapshotResource, DEFAULT_MAX_SNAPSHOT_KEYS, type SnapshotResourceDefinition, type FetchSnapshot } from "./snapshot.js";
export { pageCursor, CursorValue, type LogCursor, type PageCursor } from "./cursor.js";
export type { FetchContext, OpenContext } from "./fetchContext.js";
export { deletableSchema } from "./deletions.js";
export { closeSourcedSchema } from "./sourcedSchema.js";
export { DEFAULT_RESOURCE_INTERVAL } from "./schedule.js";
export { parseWithSchema, checkWithSchema } from "./config.js";
export type { FromSchema, JsonSchema, JsonSchemaObject, JsonType } from "./schema.js";
export { emitConfigUpdate, encryptConfig, DEFAULT_ENCRYPTION_URL, type EncryptOptions } from "./configUpdate.js";
export * from "./http/index.js";
