import { defineConnector } from "flowcap";
import { configSchema } from "./models.js";
import { oauth } from "./oauth.js";
import { <% resourceCamel %> } from "./resources.js";

export const connector = defineConnector({
  documentationUrl: "https://example.com/docs/<% name %>",
  config: configSchema,
  oauth2: oauth.oauth2,
  resources: (config) => [<% resourceCamel %>(config)],
});
