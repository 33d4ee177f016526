import type { OAuth2 } from "../protocol/index.js";
import type { Logger } from "../runtime/index.js";
// oauth sits above sdk in the layering (util ← protocol ← runtime ← sdk ← oauth): the token
// source implements sdk/http's TokenSource and uses its HTTP client and config-update event.
import { createHttpClient, emitConfigUpdate, normalizeTokenType, type AccessToken, type HttpClientOptions, type HttpResponse, type TokenSource } from "../sdk/index.js";
import { FlowcapError, StoppedError } from "../util/errors.js";
import { isPlainObject } from "../util/mergePatch.js";
import { OAuthError } from "./errors.js";
import { applyResponseMap, refreshRequestViews, renderHeaders, renderTemplate } from "./render.js";
import { createRotationSaver, type RotationSaveOptions } from "./rotation.js";

/** Refresh once this fraction of a token's lifetime has passed (Estuary's CDK uses 75 %). */
export const DEFAULT_REFRESH_AT_LIFETIME_FRACTION = 0.75;
/** The lifetime assumed when a token response has no `expires_in` (RFC 6749 §5.1 makes it optional). */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 3600;
/** A token this close to its expiry is no longer handed out as a fallback. */
const EXPIRY_MARGIN_MS = 30_000;
/** A stored access token closer than this to its expiry is refreshed at start-up. */
export const STORED_TOKEN_MIN_REMAINING_MS = 5 * 60_000;

/** The OAuth fields of a config's `credentials` (others are kept as they are). */
export interface OAuth2Credentials {
  client_id: string;
  client_secret: string;
  refresh_token?: string;
  access_token?: string;
  /** ISO-8601 expiry of `access_token` (estuary-cdk's RotatingOAuth2Credentials). */
  access_token_expires_at?: string;
  [key: string]: unknown;
}

export type TokenGrant = "refresh_token" | "client_credentials";

export interface OAuth2TokenSourceOptions {
  /** The `credentials` object of the endpoint config. */
  credentials: OAuth2Credentials;
  /**
   * The connector's `oauth2` block. The token endpoint is `refreshTokenUrlTemplate` or else
   * `accessTokenUrlTemplate`, rendered with `client_id` and `config` (never the secret); a
   * `refreshTokenBody`/`refreshTokenHeaders`/`refreshTokenMethod` replace the standard request.
   * A `basicauth` header in `accessTokenHeaders` selects Basic client authentication. A
   * `refreshTokenResponseMap` is applied to the response (as the host applies
   * `accessTokenResponseMap`): the token is read from the mapped `access_token`, a rotated
   * refresh token from `refresh_token`, the lifetime from `expires_in` or an expiry date
   * (`access_token_expires_at`, `token_expiry_date`), and every mapped field is merged into the
   * credentials that are persisted. Without it, the standard fields of RFC 6749 §5.1 are read.
   */
  oauth2?: Pick<OAuth2, "accessTokenUrlTemplate" | "accessTokenHeaders" | "refreshTokenUrlTemplate" | "refreshTokenBody" | "refreshTokenHeaders" | "refreshTokenMethod" | "refreshTokenResponseMap">;
  /** A fixed token endpoint, instead of the spec's. */
  tokenUrl?: string;
  /** The endpoint config, for token URL templates that use `config.*`. */
  config?: Record<string, unknown>;
  /** `refresh_token` when the credentials hold one, else `client_credentials` (RFC 6749 §4.4). */
  grant?: TokenGrant;
  /** `client_secret_basic` (a Basic header) or `client_secret_post` (form fields); see `oauth2`. */
  clientAuthentication?: "client_secret_basic" | "client_secret_post";
  /** `scope` for the request (client credentials mostly). */
  scope?: string;
  /** Extra form fields for every token request. */
  extraBody?: Record<string, string>;
  refreshAtLifetimeFraction?: number;
  defaultLifetimeSeconds?: number;
  /**
   * Persists rotated credentials. Called, and awaited, before the new access token is handed out,
   * so a crash cannot lose a refresh token the provider has already replaced (RFC 6749 §6).
   * When it fails, the new credentials are kept in memory (and used for refreshes) and saving is
   * tried again, with backoff, on later requests for a token; the task fails only after
   * `rotationSave.attempts` failures. See `persistWithConfigUpdate` for Flow's way.
   */
  onRotate?(credentials: OAuth2Credentials): Promise<void>;
  /** How often, and how far apart, a failed `onRotate` is retried. */
  rotationSave?: RotationSaveOptions;
  /** Token values are registered here for redaction; refreshes and retries are logged (never tokens). */
  log?: Logger;
  /** HTTP settings for the token requests (timeouts, attempts, a dispatcher, the stopping signal). */
  http?: Pick<HttpClientOptions, "timeoutMs" | "maxAttempts" | "retryBaseDelayMs" | "retryMaxDelayMs" | "dispatcher" | "signal">;
  /** The clock (ms since the epoch), for tests. */
  now?: () => number;
}

/** A TokenSource over an OAuth2 token endpoint. */
export interface OAuth2TokenSource extends TokenSource {
  /** The credentials as they are now (after any rotation). */
  readonly credentials: OAuth2Credentials;
  /** Fetches a new token now, whatever the current one's expiry (single-flight too). */
  refresh(options?: { signal?: AbortSignal }): Promise<AccessToken>;
}

interface Held {
  token: AccessToken;
  refreshAtMs: number;
  expiresAtMs: number;
}

/**
 * Creates a token source for a connector's OAuth credentials: access tokens from the refresh token
 * (or the client-credentials grant), refreshed once 75 % of their lifetime has passed, one request
 * at a time however many tasks ask, retried on network errors, 5xx and 429, with `invalid_grant`
 * turned into a user error that says to re-authorize, and a rotated refresh token persisted
 * (`onRotate`) before the new access token is used.
 */
export function createOAuth2TokenSource(options: OAuth2TokenSourceOptions): OAuth2TokenSource {
  let credentials: OAuth2Credentials = { ...options.credentials };
  const now = options.now ?? Date.now;
  const log = options.log;
  const fraction = options.refreshAtLifetimeFraction ?? DEFAULT_REFRESH_AT_LIFETIME_FRACTION;
  const defaultLifetimeMs = (options.defaultLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS) * 1000;
  const grant: TokenGrant = options.grant ?? (typeof credentials.refresh_token === "string" && credentials.refresh_token !== "" ? "refresh_token" : "client_credentials");
  const basic =
    options.clientAuthentication === "client_secret_basic" ||
    (options.clientAuthentication === undefined && Object.values(options.oauth2?.accessTokenHeaders ?? {}).some((v) => typeof v === "string" && v.includes("{{#basicauth}}")));
  const http = createHttpClient({ ...options.http, rateLimiter: false, log });

  for (const key of ["client_id", "client_secret"] as const) {
    if (typeof credentials[key] !== "string" || credentials[key] === "") {
      throw new OAuthError("OAUTH_REAUTHORIZE", `credentials.${key} is missing: the OAuth credentials are incomplete; re-authorize the capture`);
    }
  }
  if (grant === "refresh_token" && !credentials.refresh_token) {
    throw new OAuthError("OAUTH_REAUTHORIZE", "credentials.refresh_token is missing: re-authorize the capture to get one");
  }
  log?.redactor.add([credentials.client_secret, credentials.refresh_token, credentials.access_token].filter((v): v is string => typeof v === "string"));

  let held: Held | undefined = storedToken(credentials, now());
  /** A new token whose rotated refresh token is not saved yet: not handed out until it is. */
  let withheld: Held | undefined;
  let inflight: Promise<AccessToken> | undefined;
  const saver = options.onRotate ? createRotationSaver(options.onRotate, { ...options.rotationSave, now, signal: options.http?.signal }) : undefined;

  // The URL's view has no secret: a secret must never be rendered into a URL.
  const views = () => refreshRequestViews({ clientId: credentials.client_id, clientSecret: credentials.client_secret, refreshToken: credentials.refresh_token, config: options.config });

  const tokenUrl = (): string => {
    if (options.tokenUrl) return options.tokenUrl;
    const template = options.oauth2?.refreshTokenUrlTemplate || options.oauth2?.accessTokenUrlTemplate;
    if (!template) throw new FlowcapError("INTERNAL", "createOAuth2TokenSource needs `tokenUrl` or the connector's `oauth2` block");
    return renderTemplate(template, views().url, { label: "token URL" });
  };

  const request = (): { method: string; headers: Record<string, string>; body: string } => {
    const spec = options.oauth2;
    if (grant === "refresh_token" && spec?.refreshTokenBody) {
      const view = views().body;
      const rendered = renderHeaders(spec.refreshTokenHeaders, view, { label: "oauth2.refreshTokenHeaders" });
      const headers: Record<string, string> = { accept: "application/json" };
      for (const [k, v] of Object.entries(rendered)) headers[k.toLowerCase()] = String(v);
      headers["content-type"] ??= "application/x-www-form-urlencoded";
      return { method: (spec.refreshTokenMethod || "POST").toUpperCase(), headers, body: renderTemplate(spec.refreshTokenBody, view, { label: "oauth2.refreshTokenBody" }) };
    }
    const form = new URLSearchParams({ grant_type: grant });
    if (grant === "refresh_token") form.set("refresh_token", credentials.refresh_token!);
    if (options.scope) form.set("scope", options.scope);
    const headers: Record<string, string> = { accept: "application/json", "content-type": "application/x-www-form-urlencoded" };
    // Like the host's {{#basicauth}} helper, the id and secret are joined as they are (not form-encoded first).
    if (basic) headers.authorization = "Basic " + Buffer.from(`${credentials.client_id}:${credentials.client_secret}`, "latin1").toString("base64");
    else {
      form.set("client_id", credentials.client_id);
      form.set("client_secret", credentials.client_secret);
    }
    for (const [k, v] of Object.entries(options.extraBody ?? {})) form.set(k, v);
    return { method: "POST", headers, body: form.toString() };
  };

  // Runs under the HTTP client's own signal (the source's stopping signal) only, never a caller's:
  // it is shared by every caller waiting for it.
  const fetchToken = async (): Promise<AccessToken> => {
    const url = tokenUrl();
    const { method, headers, body } = request();
    let response: HttpResponse;
    try {
      // idempotent: a token request that got no answer (or a 5xx or 429) is sent again, as it always was.
      response = await http.request(url, { method, headers, body, idempotent: true, acceptStatus: (s) => s < 500 && s !== 429 });
    } catch (error) {
      if (error instanceof FlowcapError && error.code !== "STOPPED") {
        throw new OAuthError("OAUTH_TOKEN", `could not get an access token from the token endpoint: ${error.message}`, { cause: error });
      }
      throw error;
    }
    const payload = parseTokenResponse(response);
    const issuedAt = now();
    const read = response.status < 400 ? readTokenResponse(payload, options.oauth2?.refreshTokenResponseMap, issuedAt) : undefined;
    if (!read?.accessToken) throw tokenError(response, payload, grant);
    const lifetimeMs = read.lifetimeMs ?? defaultLifetimeMs;
    const token: AccessToken = { accessToken: read.accessToken, tokenType: normalizeTokenType(read.tokenType), expiresAt: new Date(issuedAt + lifetimeMs) };
    log?.redactor.add([token.accessToken]);

    const rotated = read.refreshToken !== undefined && read.refreshToken !== credentials.refresh_token;
    const next: OAuth2Credentials = { ...credentials, ...read.mapped };
    if (rotated) next.refresh_token = read.refreshToken;
    if ("access_token" in credentials) next.access_token = token.accessToken;
    if ("access_token_expires_at" in credentials) next.access_token_expires_at = token.expiresAt!.toISOString();
    // In use at once, saved or not: a provider that rotates has already retired the old refresh token.
    credentials = next;
    const fresh: Held = { token, refreshAtMs: issuedAt + lifetimeMs * fraction, expiresAtMs: issuedAt + lifetimeMs };
    log?.debug("got an OAuth access token", { grant, expiresAt: token.expiresAt!.toISOString(), rotated });
    if (rotated) log?.redactor.add([next.refresh_token!]);
    if (rotated && saver) {
      withheld = fresh;
      return saveRotation();
    }
    if (rotated) log?.warn("the provider rotated the refresh token but nothing persists it (no onRotate): the next session will start with the old one");
    held = fresh;
    return token;
  };

  /**
   * Saves the rotated credentials, then hands out the access token held back for them. Retries
   * (after the saver's backoff) while nothing else can be handed out; while the current token is
   * still good the failure goes to getToken, which keeps using it and tries again later.
   */
  const saveRotation = async (): Promise<AccessToken> => {
    for (;;) {
      try {
        await saver!.attempt({ ...credentials });
        break;
      } catch (error) {
        if (!(error instanceof OAuthError) || saver!.gaveUp || stillUsable(held)) throw error;
        log?.warn(error.message);
      }
    }
    log?.info("saved the rotated OAuth refresh token to the endpoint config");
    held = withheld!;
    withheld = undefined;
    return held.token;
  };

  /** A held-back token once saved (unless it expired meanwhile), else a new one. */
  const obtain = async (): Promise<AccessToken> => {
    if (withheld) {
      const token = await saveRotation();
      if (now() < held!.expiresAtMs) return token;
    }
    return fetchToken();
  };

  const stillUsable = (h: Held | undefined): h is Held => h !== undefined && now() < h.expiresAtMs - EXPIRY_MARGIN_MS;

  /** One refresh shared by all callers; each stops waiting when its own signal fires. */
  const refresh = (signal?: AbortSignal): Promise<AccessToken> => {
    inflight ??= obtain().finally(() => {
      inflight = undefined;
    });
    return untilAborted(inflight, signal);
  };

  return {
    get credentials() {
      return { ...credentials };
    },
    async getToken({ signal } = {}) {
      const t = now();
      if (held && t < held.refreshAtMs) return held.token;
      try {
        return await refresh(signal);
      } catch (error) {
        if (signal?.aborted) throw error;
        // A transient failure while the current token still works: keep using it for a while.
        const current = held;
        if (stillUsable(current) && !(error instanceof OAuthError && error.code === "OAUTH_REAUTHORIZE")) {
          log?.warn(`refreshing the OAuth access token failed; using the current one until it is closer to expiry: ${(error as Error).message}`);
          current.refreshAtMs = Math.min(current.expiresAtMs - EXPIRY_MARGIN_MS, now() + 30_000);
          return current.token;
        }
        throw error;
      }
    },
    invalidate(token) {
      if (held && held.token.accessToken === token.accessToken) held = undefined;
    },
    refresh: ({ signal } = {}) => refresh(signal),
  };
}

/** `promise`, or a StoppedError as soon as `signal` fires (the promise itself runs on). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  const stopped = () => new StoppedError("getting an OAuth access token cancelled");
  if (signal.aborted) return Promise.reject(stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(stopped());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** What a token response gives, read through `refreshTokenResponseMap` when there is one. */
interface TokenResponseFields {
  accessToken: string | undefined;
  refreshToken: string | undefined;
  tokenType: unknown;
  lifetimeMs: number | undefined;
  /** The mapped credential fields, merged into the persisted credentials; empty without a map. */
  mapped: Record<string, unknown>;
}

function readTokenResponse(payload: Record<string, unknown>, map: Record<string, unknown> | undefined, issuedAtMs: number): TokenResponseFields {
  const nonEmpty = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  if (!map || Object.keys(map).length === 0) {
    return { accessToken: nonEmpty(payload.access_token), refreshToken: nonEmpty(payload.refresh_token), tokenType: payload.token_type, lifetimeMs: expiresInMs(payload.expires_in), mapped: {} };
  }
  const mapped = applyResponseMap(map, payload, { now: () => new Date(issuedAtMs) }, "refreshTokenResponseMap");
  const expiry = nonEmpty(mapped.access_token_expires_at) ?? nonEmpty(mapped.token_expiry_date);
  const expiresAtMs = expiry === undefined ? NaN : Date.parse(expiry);
  const lifetimeMs = expiresInMs(mapped.expires_in) ?? (expiresAtMs > issuedAtMs ? expiresAtMs - issuedAtMs : expiresInMs(payload.expires_in));
  return { accessToken: nonEmpty(mapped.access_token), refreshToken: nonEmpty(mapped.refresh_token), tokenType: mapped.token_type ?? payload.token_type, lifetimeMs, mapped };
}

/** An access token stored in the credentials that is still good for a while. */
function storedToken(credentials: OAuth2Credentials, nowMs: number): Held | undefined {
  const expiry = credentials.access_token_expires_at ?? credentials.token_expiry_date;
  if (typeof credentials.access_token !== "string" || credentials.access_token === "" || typeof expiry !== "string") return undefined;
  const expiresAtMs = Date.parse(expiry);
  if (Number.isNaN(expiresAtMs) || expiresAtMs - nowMs < STORED_TOKEN_MIN_REMAINING_MS) return undefined;
  return {
    token: { accessToken: credentials.access_token, tokenType: "Bearer", expiresAt: new Date(expiresAtMs) },
    refreshAtMs: expiresAtMs - STORED_TOKEN_MIN_REMAINING_MS,
    expiresAtMs,
  };
}

function expiresInMs(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(n) && n > 0 ? n * 1000 : undefined;
}

/** The token response as an object: JSON, or a form body (some providers answer so without `Accept`). */
function parseTokenResponse(response: HttpResponse): Record<string, unknown> {
  const text = response.text();
  const type = String(response.headers["content-type"] ?? "");
  if (/x-www-form-urlencoded/i.test(type)) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed = JSON.parse(text) as unknown;
    return isPlainObject(parsed) ? parsed : {};
  } catch {
    if (response.status < 400) throw new OAuthError("OAUTH_TOKEN", `the token endpoint answered HTTP ${response.status} with a body that is not JSON (${type || "no content-type"}): ${text.slice(0, 200)}`);
    return { error_description: text.slice(0, 200) };
  }
}

/** RFC 6749 §5.2: `invalid_grant` means the grant is dead (re-authorize); `invalid_client`, the client credentials are wrong. */
function tokenError(response: HttpResponse, payload: Record<string, unknown>, grant: TokenGrant): OAuthError {
  const code = typeof payload.error === "string" ? payload.error : undefined;
  const description = typeof payload.error_description === "string" ? payload.error_description : undefined;
  const detail = [code, description].filter(Boolean).join(": ") || `HTTP ${response.status}`;
  const fields = { error: code, errorDescription: description, data: { status: response.status, error: code } };
  if (code === "invalid_grant") {
    const what = grant === "refresh_token" ? "The OAuth refresh token was refused" : "The OAuth grant was refused";
    return new OAuthError(
      "OAUTH_REAUTHORIZE",
      `${what} (${detail}): it was revoked, expired or already used. Re-authorize the capture: sign in again from its OAuth button in Flow (or run \`flowcap oauth --write\` locally).`,
      fields,
    );
  }
  if (code === "invalid_client" || code === "unauthorized_client" || response.status === 401) {
    return new OAuthError("OAUTH_TOKEN", `The token endpoint refused the client credentials (${detail}): check credentials.client_id and credentials.client_secret, or re-authorize the capture.`, { ...fields, userFacing: true });
  }
  if (response.status < 400) return new OAuthError("OAUTH_TOKEN", `the token endpoint answered HTTP ${response.status} without an access_token`, fields);
  return new OAuthError("OAUTH_TOKEN", `the token endpoint refused the ${grant} grant with HTTP ${response.status} (${detail})`, fields);
}

/**
 * An `onRotate` that does what Estuary's connectors do: put the new credentials into the endpoint
 * config, encrypt it through `ENCRYPTION_URL` (Estuary's service by default) and emit Flow's
 * `configUpdate` event, so the control plane republishes the task with them.
 */
export function persistWithConfigUpdate(options: {
  log: Logger;
  /** The whole endpoint config, as the connector received it. */
  config: Record<string, unknown>;
  /** The endpoint config schema (the encryption service encrypts the fields it marks secret). */
  configSchema: unknown;
  /** Where the credentials are in the config: `credentials` by default. */
  credentialsKey?: string;
  encryptionUrl?: string;
  env?: Record<string, string | undefined>;
}): (credentials: OAuth2Credentials) => Promise<void> {
  const key = options.credentialsKey ?? "credentials";
  return async (credentials) => {
    const current = isPlainObject(options.config[key]) ? options.config[key] : {};
    const config = { ...options.config, [key]: { ...current, ...credentials } };
    let lastError: unknown;
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        await emitConfigUpdate(options.log, "rotated OAuth credentials: updating the endpoint config", config, options.configSchema, { encryptionUrl: options.encryptionUrl, env: options.env });
        options.config[key] = config[key];
        return;
      } catch (error) {
        lastError = error;
        if (attempt < 3) await new Promise((r) => setTimeout(r, 250 * attempt));
      }
    }
    throw lastError;
  };
}
