import { createHttpClient, type Logger } from "flowcap";
import { createOAuth2TokenSource, persistWithConfigUpdate } from "flowcap/oauth";
import { configSchema, type EndpointConfig, type <% resourceType %> } from "./models.js";
import { oauth } from "./oauth.js";

export interface <% resourceType %>Page {
  results: <% resourceType %>[];
  /** The cursor of the next page, when there is one. */
  next?: string;
}

export type Api = ReturnType<typeof createApi>;

/**
 * The API client: bearer tokens from the refresh token (refreshed before they expire, one refresh
 * at a time, a rotated refresh token saved through Flow's configUpdate before it is used), and
 * requests with timeouts, retries and rate limiting.
 *
 * Create it once per connector request and share it between the resources (src/index.ts): with
 * one client per binding, each would refresh the same refresh token, and a provider that rotates
 * them answers every refresh after the first with invalid_grant.
 */
export function createApi(config: EndpointConfig, log: Logger) {
  const tokens = createOAuth2TokenSource({
    credentials: config.credentials,
    oauth2: oauth.oauth2,
    tokenUrl: config.token_url,
    config,
    log,
    onRotate: persistWithConfigUpdate({ log, config, configSchema }),
  });
  const http = createHttpClient({ baseUrl: config.base_url, tokenSource: tokens, log });
  return {
    /** One page of <% resource %>, after `cursor` ("" for the first); `signal` cancels it (pass the capture's `stopping`). */
    <% resourceCamel %>(cursor: string, signal?: AbortSignal): Promise<<% resourceType %>Page> {
      return http.getJson<<% resourceType %>Page>("/v1/<% resource %>", { query: { limit: 50, after: cursor || undefined }, ...(signal ? { signal } : {}) });
    },
  };
}
