/**
 * The HTTP layer flowcap offers connectors (undici underneath): timeouts and a per-request
 * deadline, retries (of idempotent requests) of network errors, 5xx and throttled responses, an
 * adaptive rate limiter that obeys `Retry-After` and rate-limit headers, auth helpers whose
 * secrets never reach a log line, pagination (Link headers, next URLs, cursors, offsets, page
 * numbers) with resumable cursors, conditional requests served from a response cache (ETags),
 * a cap on requests in flight, streaming of large JSON arrays and JSON lines, and
 * HttpStatusError with secrets stripped from the URL.
 */
export {
  createHttpClient,
  backoffDelayMs,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_REQUEST_DEADLINE_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_THROTTLED_RETRIES,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  type HttpClient,
  type HttpClientOptions,
  type RequestOptions,
  type RetryContext,
  type ResponseInfo,
  type HttpResponse,
  type StreamingResponse,
  type StreamItemsOptions,
  type ItemsResponse,
  type HttpHeaders,
  type QueryParams,
} from "./client.js";
export { createResponseCache, DEFAULT_RESPONSE_CACHE_BYTES, type ResponseCache, type CachedResponse } from "./responseCache.js";
export { HttpStatusError, redactUrl } from "./errors.js";
export { RateLimiter, MAX_RATE_LIMIT_INTERVAL_MS, type RateLimiterOptions, type RateLimitTurn } from "./rateLimiter.js";
export { isRateLimitedResponse, type RateLimitInfo } from "./rateLimitHeaders.js";
export { staticTokenSource, normalizeTokenType, type TokenSource, type AccessToken } from "./tokenSource.js";
export { apiKeyAuth, bearerAuth, basicAuth, oauth2Auth, type HttpAuth, type AuthTarget, type AppliedAuth, type ApiKeyPlacement } from "./auth.js";
export { parseLinkHeader, findLink, type WebLink } from "./linkHeader.js";
export {
  paginate,
  linkHeader,
  nextUrl,
  nextCursor,
  offsetLimit,
  pageNumber,
  type PaginationCursor,
  type Page,
  type PageRequest,
  type PaginateOptions,
  type PaginationStrategy,
  type StopReason,
  type NextCursorOptions,
  type OffsetLimitOptions,
  type PageNumberOptions,
} from "./paginate.js";
export { streamJsonArray, DEFAULT_MAX_ITEM_BYTES, DEFAULT_MAX_ENVELOPE_BYTES, type JsonArrayStreamOptions } from "./jsonArrayStream.js";
