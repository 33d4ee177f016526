import type { FromSchema } from "flowcap";

/**
 * The endpoint config: the source's own `connectionSpecification` (SPEC in runtime/source.py),
 * which the shim gives Flow as the config schema, checks each config against, and hands to the
 * source unchanged. It is declared here too so TypeScript code gets its type (`EndpointConfig`,
 * as Flow fills the config in: with its defaults); test/connector.test.ts checks the two stay the
 * same. Change both together.
 */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% title %>",
  type: "object",
  required: ["api_key"],
  properties: {
    api_key: { type: "string", title: "API key", airbyte_secret: true },
    page_size: { type: "integer", title: "Page size", default: 25, minimum: 1 },
  },
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;
