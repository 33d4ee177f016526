/** The source's config, as its spec declares it. */
export interface ExampleConfig {
  /** Base URL of the tickets API, e.g. `https://tickets.example.com/api`. */
  api_url: string;
  /** API token, sent as a bearer token. */
  token: string;
  /** Tickets per page. */
  page_size?: number;
  // The CDK's own settings (compress_state, max_stream_failures, ...) ride along.
  [key: string]: unknown;
}

/** The Airbyte spec: what `spec` prints (the CDK adds its common properties). */
export const specification = {
  documentationUrl: "https://github.com/flowcap/flowcap/tree/main/connectors/source-faros-example",
  connectionSpecification: {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Tickets API",
    type: "object",
    required: ["api_url", "token"],
    additionalProperties: true,
    properties: {
      api_url: { type: "string", title: "API URL", description: "Base URL of the tickets API.", order: 0 },
      token: { type: "string", title: "API token", description: "Sent as a bearer token.", airbyte_secret: true, order: 1 },
      page_size: { type: "integer", title: "Page size", description: "Tickets per request.", default: 100, minimum: 1, maximum: 1000, order: 2 },
    },
  },
};

export interface Project {
  id: string;
  name: string;
}

export interface Ticket {
  id: number;
  project_id: string;
  title: string;
  status: "open" | "closed";
  /** ISO 8601; tickets are listed in order of it. */
  updated_at: string;
}

/** What the tickets stream remembers: the `updated_at` (ms) of the last ticket it read. */
export interface TicketsState {
  cutoff: number;
}

export const projectSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: { id: { type: "string" }, name: { type: "string" } },
  required: ["id"],
};

export const ticketSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  properties: {
    id: { type: "integer" },
    project_id: { type: "string" },
    title: { type: "string" },
    status: { type: "string", enum: ["open", "closed"] },
    updated_at: { type: "string", format: "date-time" },
  },
  required: ["id", "updated_at"],
};
