<%#apiKey%>
import { apiKeyAuth, createHttpClient, nextCursor, paginate, type HttpClient, type Logger, type PaginationCursor } from "flowcap";
<%/apiKey%>
<%#bearer%>
import { bearerAuth, createHttpClient, nextCursor, paginate, type HttpClient, type Logger, type PaginationCursor } from "flowcap";
<%/bearer%>
<%#basic%>
import { basicAuth, createHttpClient, nextCursor, paginate, type HttpClient, type Logger, type PaginationCursor } from "flowcap";
<%/basic%>
<%#oauth2%>
import { createHttpClient, nextCursor, oauth2Auth, paginate, type HttpClient, type Logger, type PaginationCursor } from "flowcap";
import { createOAuth2TokenSource, persistWithConfigUpdate } from "flowcap/oauth";
import { oauth } from "./oauth.js";
<%/oauth2%>
<%#oauth2%>
import { configSchema, type EndpointConfig, type <% resourceType %> } from "./models.js";
<%/oauth2%>
<%^oauth2%>
import type { EndpointConfig, <% resourceType %> } from "./models.js";
<%/oauth2%>

/** Records per page: the most the API returns at once. */
export const PAGE_SIZE = 100;

export type Api = ReturnType<typeof createApi>;

/**
 * The API client: credentials on every request (never in a log line or a saved cursor),
 * timeouts, retries of network errors, 5xx and 429 (obeying `Retry-After`), and an adaptive rate
 * limiter that reads the API's rate-limit headers.
 *
 * Create it once per connector request and share it between the resources (src/index.ts), so they
 * share one rate limiter<%#oauth2%> and one token source: with one per binding, each would refresh the same
 * refresh token, and a provider that rotates them answers every refresh after the first with
 * invalid_grant<%/oauth2%>.
 */
export function createApi(config: EndpointConfig, log: Logger) {
<%#apiKey%>
  const auth = apiKeyAuth(config.api_key, { header: "X-API-Key" });
<%/apiKey%>
<%#bearer%>
  const auth = bearerAuth(config.access_token);
<%/bearer%>
<%#basic%>
  const auth = basicAuth(config.username, config.password);
<%/basic%>
<%#oauth2%>
  // Access tokens from the refresh token: refreshed before they expire, one refresh at a time, and
  // a rotated refresh token saved through Flow's configUpdate before it is used.
  const tokens = createOAuth2TokenSource({
    credentials: config.credentials,
    oauth2: oauth.oauth2,
    tokenUrl: config.token_url,
    config,
    log,
    onRotate: persistWithConfigUpdate({ log, config, configSchema }),
  });
  const auth = oauth2Auth(tokens);
<%/oauth2%>
  const http = createHttpClient({ baseUrl: config.base_url, auth, log });
  return {
    /** One small request, so that validating the capture fails on bad credentials or a wrong URL. */
    async probe(): Promise<void> {
      await http.request("/v1/<% resource %>", { query: { limit: 1 } });
    },
    /**
     * The records updated at or after `since` (inclusive: records that share the last cursor
     * value are not lost), oldest first, a page at a time.
     */
    changedSince(since: Date, signal: AbortSignal) {
      return pages(http, { updated_since: since.toISOString() }, undefined, signal);
    },
    /**
     * The records updated before `cutoff` (and at or after the config's start date), a page at a
     * time from the page `from` (undefined: the first).
     */
    updatedBefore(cutoff: Date, from: PaginationCursor | undefined, signal: AbortSignal) {
      return pages(http, { updated_since: config.start_date, updated_before: cutoff.toISOString() }, from, signal);
    },
  };
}

/**
 * GET /v1/<% resource %>: `{ "data": [...], "next_cursor": "..." | null }`, sorted by `updated_at` then
 * `id`, the next page asked for with `?cursor=`. Adapt the path, the parameters and the strategy
 * to your API: `linkHeader()`, `nextUrl("/links/next")`, `offsetLimit({ limit })`, `pageNumber()`.
 */
function pages(http: HttpClient, query: Record<string, string | undefined>, from: PaginationCursor | undefined, signal: AbortSignal) {
  return paginate<<% resourceType %>>(http, "/v1/<% resource %>", {
    strategy: nextCursor({ pointer: "/next_cursor", param: "cursor" }),
    records: "/data",
    query: { ...query, limit: PAGE_SIZE },
    from,
    signal,
  });
}
