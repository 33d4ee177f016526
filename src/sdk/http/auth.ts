import { FlowcapError } from "../../util/errors.js";
import { authorizationValue, type AccessToken, type TokenSource } from "./tokenSource.js";

/** The parts of one outgoing attempt an HttpAuth may set. */
export interface AuthTarget {
  /** The request's headers, names lower-cased. */
  headers: Record<string, string>;
  /** The URL the attempt is sent to; a query-parameter credential is set on it. */
  url: URL;
}

/** What an HttpAuth put on one attempt. */
export interface AppliedAuth {
  /** The secret values it sent (registered with the client's logger, so no log line shows them). */
  secrets: readonly string[];
  /**
   * After an HTTP 401: drop these credentials so the next attempt gets fresh ones. Returns true
   * when a retry may succeed (an OAuth token can be refreshed; a fixed API key cannot).
   */
  invalidate?(): boolean;
}

/**
 * How a client authenticates its requests. `apiKeyAuth`, `bearerAuth`, `basicAuth` and
 * `oauth2Auth` cover the usual schemes; implement it for a custom one (an HMAC signature).
 */
export interface HttpAuth {
  /** Sets the credentials on an attempt (called for each attempt, so a refreshed token is used). */
  apply(target: AuthTarget, options?: { signal?: AbortSignal }): AppliedAuth | Promise<AppliedAuth>;
  /**
   * Query parameters that carry credentials: removed from every URL the client shows (errors,
   * log lines) and from pagination cursors, which are saved in Flow's state.
   */
  readonly queryParams?: readonly string[];
  /** Secret values known up front, registered with the client's logger when the client is created. */
  readonly secrets?: readonly string[];
}

function requireSecret(value: unknown, what: string): string {
  if (typeof value !== "string" || value === "") {
    throw new FlowcapError("CONFIG_INVALID", `${what} is empty: set it in the endpoint config`, { userFacing: true });
  }
  return value;
}

/** Where an API key goes: a header (`X-API-Key`, with an optional scheme prefix) or a query parameter. */
export type ApiKeyPlacement = { header: string; prefix?: string } | { query: string };

/**
 * An API key in a header (`apiKeyAuth(key, { header: "X-API-Key" })`,
 * `apiKeyAuth(key, { header: "Authorization", prefix: "Token " })`) or a query parameter
 * (`apiKeyAuth(key, { query: "api_key" })`). The key never appears in a URL the client shows
 * or logs, nor in a pagination cursor, whatever the parameter is called.
 */
export function apiKeyAuth(key: string, placement: ApiKeyPlacement): HttpAuth {
  const secret = requireSecret(key, "the API key");
  if ("query" in placement) {
    const name = placement.query;
    return {
      queryParams: [name],
      secrets: [secret],
      apply: ({ url }) => {
        url.searchParams.set(name, secret);
        return { secrets: [secret] };
      },
    };
  }
  const header = placement.header.toLowerCase();
  const value = `${placement.prefix ?? ""}${secret}`;
  return {
    secrets: [secret],
    apply: ({ headers }) => {
      headers[header] = value;
      return { secrets: [secret] };
    },
  };
}

/** A fixed bearer token (a personal access token): `Authorization: Bearer <token>`. */
export function bearerAuth(token: string): HttpAuth {
  const secret = requireSecret(token, "the access token");
  return {
    secrets: [secret],
    apply: ({ headers }) => {
      headers.authorization = `Bearer ${secret}`;
      return { secrets: [secret] };
    },
  };
}

/**
 * HTTP Basic authentication (RFC 7617), user-id and password joined by a colon and sent as UTF-8.
 * The password and the encoded header value are both kept out of log lines.
 */
export function basicAuth(username: string, password: string): HttpAuth {
  if (username.includes(":")) throw new FlowcapError("CONFIG_INVALID", "the Basic auth user name must not contain a colon (RFC 7617)", { userFacing: true });
  const encoded = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
  const secrets = [encoded, ...(password ? [password] : [])];
  return {
    secrets,
    apply: ({ headers }) => {
      headers.authorization = `Basic ${encoded}`;
      return { secrets };
    },
  };
}

/**
 * OAuth2 (or any TokenSource): the token source's current token in `Authorization: <type>
 * <token>` (or `header`). On a 401 the token is invalidated so the retry gets a fresh one.
 * `flowcap/oauth`'s `createOAuth2TokenSource` refreshes before expiry, one refresh at a time.
 */
export function oauth2Auth(tokenSource: TokenSource, options: { header?: string } = {}): HttpAuth {
  const header = (options.header ?? "authorization").toLowerCase();
  return {
    apply: async ({ headers }, opts) => {
      const token: AccessToken = await tokenSource.getToken(opts?.signal ? { signal: opts.signal } : undefined);
      headers[header] = authorizationValue(token);
      return {
        secrets: [token.accessToken],
        invalidate: () => {
          if (!tokenSource.invalidate) return false;
          tokenSource.invalidate(token);
          return true;
        },
      };
    },
  };
}
