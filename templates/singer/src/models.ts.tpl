import type { FromSchema } from "flowcap";

/**
 * The tap's config, as users fill it in Flow. The shim checks each config against it before the
 * tap sees it, then hands it to the tap unchanged. (A tap built with the Meltano SDK declares its
 * own in `--about`: leave `configSchema` out of src/index.ts and the shim asks the tap.)
 */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% title %>",
  type: "object",
  properties: {
    api_key: { type: "string", title: "API key", description: "Key for the source's API.", secret: true, order: 0 },
    page_size: { type: "integer", title: "Page size", description: "Records per page, and between checkpoints.", minimum: 1, maximum: 1000, default: 100, order: 1 },
  },
  required: ["api_key"],
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;
