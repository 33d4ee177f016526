import type { FromSchema } from "flowcap";

/** The endpoint config users fill in. Its TypeScript type is inferred from the schema. */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% title %>",
  type: "object",
  properties: {
    api_key: { type: "string", title: "API key", description: "Key for the source's API.", secret: true, order: 0 },
    page_size: { type: "integer", title: "Page size", description: "Records fetched per request.", minimum: 1, maximum: 1000, default: 100, order: 1 },
  },
  required: ["api_key"],
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;

/** One <% resource %> record as the source returns it. */
export const <% resourceCamel %>Schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% resourceTitle %>",
  type: "object",
  properties: {
    id: { type: "integer", description: "Increases with every new record." },
    created_at: { type: "string", format: "date-time" },
    name: { type: "string" },
  },
  required: ["id", "created_at", "name"],
} as const;

export type <% resourceType %> = FromSchema<typeof <% resourceCamel %>Schema>;

/** What the binding remembers between sessions: the last id it committed. */
export interface <% resourceType %>State {
  cursor: number;
}
