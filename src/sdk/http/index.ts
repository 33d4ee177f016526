/**
 * The HTTP client flowcap offers connectors (undici underneath): timeouts, retries of network
 * errors, 5xx and 429, `Retry-After`, an adaptive rate limiter, JSON and line-streaming helpers,
 * bearer tokens from a TokenSource, and HttpStatusError with secrets stripped from the URL.
 */
export {
  createHttpClient,
  parseRetryAfter,
  backoffDelayMs,
  isRetryableNetworkError,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  type HttpClient,
  type HttpClientOptions,
  type RequestOptions,
  type RetryContext,
  type HttpResponse,
  type StreamingResponse,
  type HttpHeaders,
  type QueryParams,
} from "./client.js";
export { HttpStatusError, redactUrl, isSecretParamName, BODY_EXCERPT_CHARS } from "./errors.js";
export { RateLimiter, MAX_RATE_LIMIT_INTERVAL_MS, type RateLimiterOptions } from "./rateLimiter.js";
export { staticTokenSource, authorizationValue, normalizeTokenType, type TokenSource, type AccessToken } from "./tokenSource.js";
