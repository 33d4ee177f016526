import type { FromSchema } from "flowcap";
<%#oauth2%>
import { credentialsSchema } from "flowcap/oauth";
import { oauth } from "./oauth.js";
<%/oauth2%>

/**
 * The endpoint config users fill in; its TypeScript type is inferred from the schema. Fields
 * marked `secret` are redacted from every log line.
 */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% title %>",
  type: "object",
  properties: {
<%#apiKey%>
    api_key: { type: "string", title: "API key", description: "The key the API issued you.", secret: true, order: 0 },
<%/apiKey%>
<%#bearer%>
    access_token: { type: "string", title: "Access token", description: "A personal access token for the API.", secret: true, order: 0 },
<%/bearer%>
<%#basic%>
    username: { type: "string", title: "User name", description: "The API user's name.", order: 0 },
    password: { type: "string", title: "Password", description: "The API user's password.", secret: true, order: 1 },
<%/basic%>
<%#oauth2%>
    // Filled in by Flow's OAuth sign-in (the client id and secret are injected by Flow).
    credentials: credentialsSchema(oauth.credentials),
    token_url: { type: "string", title: "Token URL", description: "Where access tokens come from.", default: "https://auth.example.com/oauth/token", order: 1 },
<%/oauth2%>
    base_url: { type: "string", title: "API URL", description: "Base URL of the API.", default: "https://api.example.com", order: 2 },
    start_date: {
      type: "string",
      format: "date-time",
      title: "Start date",
      description: "Backfill only the records updated at or after this time (UTC, RFC 3339). Default: every record.",
      order: 3,
    },
  },
<%#apiKey%>
  required: ["api_key"],
<%/apiKey%>
<%#bearer%>
  required: ["access_token"],
<%/bearer%>
<%#basic%>
  required: ["username", "password"],
<%/basic%>
<%#oauth2%>
  required: ["credentials"],
<%/oauth2%>
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;

/** One <% resource %> record as the API returns it. */
export const <% resourceCamel %>Schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% resourceTitle %>",
  type: "object",
  properties: {
    id: { type: "string" },
    updated_at: { type: "string", format: "date-time", description: "When the record last changed: the incremental cursor." },
    name: { type: "string" },
  },
  required: ["id", "updated_at"],
} as const;

export type <% resourceType %> = FromSchema<typeof <% resourceCamel %>Schema>;
