import { defineConnector } from "flowcap";
import { createApi } from "./api.js";
import { configSchema } from "./models.js";
import { oauth } from "./oauth.js";
import { <% resourceCamel %> } from "./resources.js";

export const connector = defineConnector({
  documentationUrl: "https://example.com/docs/<% name %>",
  config: configSchema,
  oauth2: oauth.oauth2,
  // Called once per request (once per capture session): one API client, so one token source, for
  // every binding. Add resources to the list with the same `api`.
  resources: (config, { log }) => {
    const api = createApi(config, log);
    return [<% resourceCamel %>(api)];
  },
});
