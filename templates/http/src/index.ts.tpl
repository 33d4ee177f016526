import { defineConnector } from "flowcap";
import { createApi } from "./api.js";
import { configSchema } from "./models.js";
<%#oauth2%>
import { oauth } from "./oauth.js";
<%/oauth2%>
import { <% resourceCamel %> } from "./resources.js";

export const connector = defineConnector({
  documentationUrl: "https://example.com/docs/<% name %>",
  config: configSchema,
<%#oauth2%>
  oauth2: oauth.oauth2,
<%/oauth2%>
  // When Flow validates the capture: an HTTP 401 becomes a user error that says to check the
  // credentials.
  check: (config, { log }) => createApi(config, log).probe(),
  // Called once per request (once per capture session): one API client for every binding. Add
  // resources to the list with the same `api`.
  resources: (config, { log }) => {
    const api = createApi(config, log);
    return [<% resourceCamel %>(api)];
  },
});
