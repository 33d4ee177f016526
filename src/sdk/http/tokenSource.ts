/** An access token and what the HTTP client needs to send it. */
export interface AccessToken {
  /** The token itself. */
  readonly accessToken: string;
  /** The scheme for the Authorization header, normalized (`Bearer`, not `bearer`). */
  readonly tokenType: string;
  /** When the token stops working, if known. */
  readonly expiresAt?: Date;
}

/**
 * Where the HTTP client gets credentials for a request. `flowcap/oauth`'s
 * `createOAuth2TokenSource` implements it with refresh-token and client-credentials grants
 * (refreshed before expiry, one refresh at a time, rotation persisted); `staticTokenSource` wraps
 * a fixed API token.
 */
export interface TokenSource {
  /**
   * A token that is valid now. Concurrent callers share one refresh. Rejects with a user-facing
   * error when the credentials can no longer be used (the user must re-authorize).
   */
  getToken(options?: { signal?: AbortSignal }): Promise<AccessToken>;
  /**
   * Tells the source that the API rejected `token` (HTTP 401), so the next getToken fetches a new
   * one instead of returning it again.
   */
  invalidate?(token: AccessToken): void;
}

/** A TokenSource for a fixed token (a personal access token or API key sent as `Bearer`). */
export function staticTokenSource(accessToken: string, tokenType = "Bearer"): TokenSource {
  const token: AccessToken = { accessToken, tokenType };
  return { getToken: () => Promise.resolve(token) };
}

/** The Authorization header value for a token: `Bearer abc`. */
export function authorizationValue(token: AccessToken): string {
  return `${token.tokenType} ${token.accessToken}`;
}

/** Normalizes an RFC 6749 §5.1 `token_type` (case-insensitive) to its usual spelling. */
export function normalizeTokenType(tokenType: unknown): string {
  if (typeof tokenType !== "string" || tokenType === "") return "Bearer";
  const lower = tokenType.toLowerCase();
  if (lower === "bearer") return "Bearer";
  if (lower === "mac") return "MAC";
  if (lower === "dpop") return "DPoP";
  return tokenType;
}
