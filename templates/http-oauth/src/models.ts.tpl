import type { FromSchema } from "flowcap";
import { credentialsSchema } from "flowcap/oauth";
import { oauth } from "./oauth.js";

/** The endpoint config. `credentials` is filled by Flow's OAuth sign-in (client id and secret are injected). */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% title %>",
  type: "object",
  properties: {
    credentials: credentialsSchema(oauth.credentials),
    base_url: { type: "string", title: "API URL", description: "Base URL of the API.", default: "https://api.example.com", order: 1 },
    token_url: { type: "string", title: "Token URL", description: "Where access tokens come from.", default: "https://auth.example.com/oauth/token", order: 2 },
  },
  required: ["credentials"],
} as const;

export type EndpointConfig = FromSchema<typeof configSchema>;

export const <% resourceCamel %>Schema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "<% resourceTitle %>",
  type: "object",
  properties: {
    id: { type: "string" },
    updated_at: { type: "string", format: "date-time" },
    name: { type: "string" },
  },
  required: ["id", "updated_at"],
} as const;

export type <% resourceType %> = FromSchema<typeof <% resourceCamel %>Schema>;

/** The binding's state: the API's pagination cursor after the last committed page. */
export interface <% resourceType %>State {
  after: string;
}
