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
export {
  createSingerConnector,
  childTap,
  DEFAULT_PROBE_TIMEOUT_MS,
  DEFAULT_MAX_TRACKED_KEYS,
  ROW_ID_KEY,
  type SingerConnectorOptions,
  type ChildTapOptions,
  type SingerTap,
  type SingerTapContext,
  type SingerLineSink,
  type CatalogArgument,
} from "../shims/singer/index.js";
export type * from "../shims/singer/types.js";
