import { defineConnector } from "flowcap";
import { configSchema } from "./models.js";
import { <% resourceCamel %> } from "./resources.js";

export const connector = defineConnector({
  documentationUrl: "https://example.com/docs/<% name %>",
  config: configSchema,
  resources: (config) => [<% resourceCamel %>(config)],
});
