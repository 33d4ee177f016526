import { createHttpClient, type Logger } from "flowcap";
import { createOAuth2TokenSource, persistWithConfigUpdate } from "flowcap/oauth";
import { configSchema, type EndpointConfig, type <% resourceType %> } from "./models.js";
import { oauth } from "./oauth.js";

export interface <% resourceType %>Page {
  results: <% resourceType %>[];
  /** The cursor of the next page, when there is one. */
  next?: string;
}

/**
 * The API client: bearer tokens from the refresh token (refreshed before they expire, one refresh
 * at a time, a rotated refresh token saved through Flow's configUpdate before it is used), and
 * requests with timeouts, retries and rate limiting.
 */
export function createApi(config: EndpointConfig, log: Logger, signal?: AbortSignal) {
  const tokens = createOAuth2TokenSource({
    credentials: config.credentials,
    oauth2: oauth.oauth2,
    tokenUrl: config.token_url,
    config,
    log,
    onRotate: persistWithConfigUpdate({ log, config, configSchema }),
  });
  const http = createHttpClient({ baseUrl: config.base_url, tokenSource: tokens, log, ...(signal ? { signal } : {}) });
  return {
    /** One page of <% resource %>, after `cursor` ("" for the first). */
    <% resourceCamel %>(cursor: string): Promise<<% resourceType %>Page> {
      return http.getJson<<% resourceType %>Page>("/v1/<% resource %>", { query: { limit: 50, after: cursor || undefined } });
    },
  };
}
