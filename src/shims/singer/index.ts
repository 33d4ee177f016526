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
export { createSingerConnector, type SingerConnectorOptions } from "./connector.js";
export { childTap, DEFAULT_PROBE_TIMEOUT_MS, type ChildTapOptions, type SingerTap, type SingerTapContext, type SingerLineSink, type CatalogArgument } from "./tap.js";
export { DEFAULT_MAX_TRACKED_KEYS } from "./session.js";
export { RESOURCE_CONFIG_SCHEMA } from "./bindings.js";
export { ROW_ID_KEY } from "../documents.js";
export type * from "./types.js";
