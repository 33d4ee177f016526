import type { OAuth2 } from "../protocol/index.js";
import { CODE_CHALLENGE_METHOD } from "./render.js";

/**
 * A typed way to declare a connector's `oauth2` block and the `credentials` schema it fills.
 * The templates it writes pass `lintOAuth` by construction: every variable raw (`{{{x}}}`) and
 * URL-encoded, `state` always, PKCE S256 on both sides, the client secret never in a URL, the
 * redirect URI repeated in the token request, and a response map that keeps what the credentials
 * need.
 */

/** What the credentials keep, and so what the response map takes from the token response. */
export type OAuth2CredentialsKind =
  /** A refresh token; the connector gets access tokens from it (Estuary's BaseOAuth2Credentials). */
  | "refresh_token"
  /** A refresh token that rotates, plus the access token and its expiry (RotatingOAuth2Credentials). */
  | "rotating"
  /** A long-lived access token only (LongLivedClientCredentialsOAuth2Credentials). */
  | "access_token";

/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthentication = "client_secret_basic" | "client_secret_post";

export interface OAuth2FlowOptions<K extends OAuth2CredentialsKind = OAuth2CredentialsKind, P extends string = string> {
  /** The machine name Flow's UI matches with `x-oauth2-provider` (`github`, `google`, …). */
  provider: P;
  /**
   * The authorization endpoint, without the OAuth parameters. May use `{{{config.x}}}` (inside
   * `{{#urlencode}}` in a path segment) for endpoints that depend on the config.
   */
  authorizeUrl: string;
  /** The token endpoint. The same rules as authorizeUrl. */
  tokenUrl: string;
  /** Scopes, sent in this order (RFC 6749 §3.3). */
  scopes?: readonly string[];
  /** The separator between scopes: a space by default (some providers want a comma). */
  scopeSeparator?: string;
  /** Extra fixed parameters of the authorization request (`access_type=offline`, `prompt=consent`). */
  authorizeParams?: Readonly<Record<string, string>>;
  /** Extra fixed parameters of the token request (Microsoft wants `scope` again). */
  tokenParams?: Readonly<Record<string, string>>;
  /** PKCE with S256 (RFC 7636): true by default; turn off only for a provider that rejects it. */
  pkce?: boolean;
  /** `client_secret_post` (form fields, the default) or `client_secret_basic` (a Basic header). */
  clientAuthentication?: ClientAuthentication;
  /** What the credentials keep: `refresh_token` by default. */
  credentials?: K;
  /** More response fields to keep in the credentials, as `key: "/pointer"` (Salesforce's `instance_url`). */
  extraResponseFields?: Readonly<Record<string, string>>;
}

/** The response map for each credentials kind. */
const RESPONSE_MAPS: Record<OAuth2CredentialsKind, Record<string, string>> = {
  refresh_token: { refresh_token: "/refresh_token" },
  rotating: { refresh_token: "/refresh_token", access_token: "/access_token", access_token_expires_at: "{{#now_plus}}{{ expires_in }}{{/now_plus}}" },
  access_token: { access_token: "/access_token" },
};

const encoded = (name: string) => `{{#urlencode}}{{{ ${name} }}}{{/urlencode}}`;

/** Encodes a fixed parameter; `{`/`}` are encoded too, so fixed text can never open a Mustache tag. */
const fixedParam = (key: string, value: string) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;

/** Builds the wire `oauth2` block for a standard authorization-code flow. */
export function oauth2Spec(options: OAuth2FlowOptions): OAuth2 {
  const pkce = options.pkce ?? true;
  const basic = options.clientAuthentication === "client_secret_basic";
  const kind = options.credentials ?? "refresh_token";

  const auth = [
    `client_id=${encoded("client_id")}`,
    `redirect_uri=${encoded("redirect_uri")}`,
    "response_type=code",
    `state=${encoded("state")}`,
  ];
  if (options.scopes?.length) auth.push(fixedParam("scope", options.scopes.join(options.scopeSeparator ?? " ")));
  for (const [k, v] of Object.entries(options.authorizeParams ?? {})) auth.push(fixedParam(k, v));
  if (pkce) auth.push(`code_challenge=${encoded("code_challenge")}`, `code_challenge_method=${CODE_CHALLENGE_METHOD}`);

  const body = ["grant_type=authorization_code", `code=${encoded("code")}`, `redirect_uri=${encoded("redirect_uri")}`];
  if (!basic) body.push(`client_id=${encoded("client_id")}`, `client_secret=${encoded("client_secret")}`);
  if (pkce) body.push(`code_verifier=${encoded("code_verifier")}`);
  for (const [k, v] of Object.entries(options.tokenParams ?? {})) body.push(fixedParam(k, v));

  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (basic) headers.authorization = "Basic {{#basicauth}}{{{ client_id }}}:{{{ client_secret }}}{{/basicauth}}";

  const sep = options.authorizeUrl.includes("?") ? "&" : "?";
  return {
    provider: options.provider,
    authUrlTemplate: `${options.authorizeUrl}${sep}${auth.join("&")}`,
    accessTokenUrlTemplate: options.tokenUrl,
    accessTokenBody: body.join("&"),
    accessTokenHeaders: headers,
    accessTokenResponseMap: { ...RESPONSE_MAPS[kind], ...options.extraResponseFields },
  };
}

/** `{ type: "string", title, secret: true }`. (Type aliases, not interfaces, so they fit JsonSchemaObject's index signature.) */
type SecretString<T extends string> = {
  readonly type: "string";
  readonly title: T;
  readonly secret: true;
};

type KindProperties = {
  refresh_token: { readonly refresh_token: SecretString<"Refresh Token"> };
  rotating: {
    readonly refresh_token: SecretString<"Refresh Token">;
    readonly access_token: SecretString<"Access Token">;
    readonly access_token_expires_at: { readonly type: "string"; readonly format: "date-time"; readonly title: "Access Token Expires At" };
  };
  access_token: { readonly access_token: SecretString<"Access Token"> };
};

type KindRequired = {
  refresh_token: "refresh_token";
  rotating: "refresh_token" | "access_token" | "access_token_expires_at";
  access_token: "access_token";
};

/** The discriminator value of OAuth credentials, as Estuary's connectors spell it. */
export const OAUTH_CREDENTIALS_TITLE = "OAuth Credentials";
/** The discriminator value of an access-token (private app) credentials branch. */
export const ACCESS_TOKEN_CREDENTIALS_TITLE = "Private App Credentials";
/** The discriminator value of client-credentials-grant credentials. */
export const CLIENT_CREDENTIALS_TITLE = "OAuth Client Credentials";

/** The JSON Schema of OAuth credentials, typed precisely so `FromSchema` infers the config type. */
export type OAuth2CredentialsSchema<K extends OAuth2CredentialsKind, P extends string, X extends string = never> = {
  readonly type: "object";
  readonly title: string;
  readonly "x-oauth2-provider": P;
  readonly properties: {
    readonly credentials_title: { readonly type: "string"; readonly const: typeof OAUTH_CREDENTIALS_TITLE; readonly default: typeof OAUTH_CREDENTIALS_TITLE; readonly title: "Credentials Title" };
    readonly client_id: SecretString<"Client ID">;
    readonly client_secret: SecretString<"Client Secret">;
  } & KindProperties[K] & { readonly [E in X]: { readonly type: "string"; readonly title: string } };
  readonly required: readonly ("credentials_title" | "client_id" | "client_secret" | KindRequired[K] | X)[];
};

const secret = <T extends string>(title: T): SecretString<T> => ({ type: "string", title, secret: true });

/**
 * The credentials schema an OAuth flow fills: `credentials_title` (the discriminator),
 * `client_id` and `client_secret` (injected by Flow, secret), the tokens of `kind` (secret), and
 * `x-oauth2-provider`, which makes Flow's UI show the sign-in button.
 */
export function oauth2CredentialsSchema<const K extends OAuth2CredentialsKind, const P extends string, const X extends string = never>(options: {
  provider: P;
  credentials: K;
  /** The title Flow's UI shows for this auth method: "OAuth" by default. */
  title?: string;
  /** Response fields kept as plain (non-secret) strings, such as Salesforce's `instance_url`. */
  extraFields?: readonly X[];
}): OAuth2CredentialsSchema<K, P, X> {
  const kindProps: Record<OAuth2CredentialsKind, Record<string, unknown>> = {
    refresh_token: { refresh_token: secret("Refresh Token") },
    rotating: {
      refresh_token: secret("Refresh Token"),
      access_token: secret("Access Token"),
      access_token_expires_at: { type: "string", format: "date-time", title: "Access Token Expires At" },
    },
    access_token: { access_token: secret("Access Token") },
  };
  const extra = Object.fromEntries((options.extraFields ?? []).map((f) => [f, { type: "string", title: titleCase(f) }]));
  const props = kindProps[options.credentials];
  return {
    type: "object",
    title: options.title ?? "OAuth",
    "x-oauth2-provider": options.provider,
    properties: {
      credentials_title: { type: "string", const: OAUTH_CREDENTIALS_TITLE, default: OAUTH_CREDENTIALS_TITLE, title: "Credentials Title" },
      client_id: secret("Client ID"),
      client_secret: secret("Client Secret"),
      ...props,
      ...extra,
    },
    // The discriminator is required (it has a default too) so validators can switch on it, as
    // Flow's UI and ajv's discriminator support do.
    required: ["credentials_title", "client_id", "client_secret", ...Object.keys(props), ...(options.extraFields ?? [])],
  } as unknown as OAuth2CredentialsSchema<K, P, X>;
}

/** An access-token (API key, private app) auth method, for connectors that offer one beside OAuth. */
export function accessTokenCredentialsSchema<const T extends string = typeof ACCESS_TOKEN_CREDENTIALS_TITLE>(options: { credentialsTitle?: T; title?: string; description?: string } = {}) {
  const title = (options.credentialsTitle ?? ACCESS_TOKEN_CREDENTIALS_TITLE) as T;
  return {
    type: "object",
    title: options.title ?? "Access Token",
    properties: {
      credentials_title: { type: "string", const: title, default: title, title: "Credentials Title" },
      access_token: { type: "string", title: "Access Token", secret: true, ...(options.description ? { description: options.description } : {}) },
    },
    required: ["credentials_title", "access_token"],
  } as const satisfies Record<string, unknown>;
}

/**
 * Client-credentials-grant credentials (RFC 6749 §4.4): the user enters the client id and
 * secret; no browser flow, so no `x-oauth2-provider`. Pair with
 * `createOAuth2TokenSource({ grant: "client_credentials" })`.
 */
export function clientCredentialsSchema(options: { title?: string } = {}) {
  return {
    type: "object",
    title: options.title ?? "Client Credentials",
    properties: {
      credentials_title: { type: "string", const: CLIENT_CREDENTIALS_TITLE, default: CLIENT_CREDENTIALS_TITLE, title: "Credentials Title" },
      client_id: { type: "string", title: "Client ID", secret: true },
      client_secret: { type: "string", title: "Client Secret", secret: true },
    },
    required: ["credentials_title", "client_id", "client_secret"],
  } as const satisfies Record<string, unknown>;
}

/**
 * The `credentials` property: the auth methods as a `oneOf` discriminated by
 * `credentials_title`, the shape Flow's UI renders as a choice (estuary-cdk's convention).
 */
export function credentialsSchema<const B extends readonly object[]>(...branches: B): { readonly title: "Authentication"; readonly discriminator: { readonly propertyName: "credentials_title" }; readonly oneOf: B } {
  return { title: "Authentication", discriminator: { propertyName: "credentials_title" }, oneOf: branches };
}

/** An OAuth flow declared with defineOAuth2: the wire block and its credentials schema. */
export interface OAuth2Definition<K extends OAuth2CredentialsKind, P extends string, X extends string = never> {
  /** The `oauth2` block of the connector's spec (defineConnector's `oauth2`). */
  readonly oauth2: OAuth2;
  /** The credentials branch it fills; put it in `credentialsSchema(...)`. */
  readonly credentials: OAuth2CredentialsSchema<K, P, X>;
  readonly kind: K;
}

/**
 * Declares an OAuth2 authorization-code flow: the `oauth2` block Flow's host runs and the
 * matching credentials schema. Use a preset from `oauth2Providers` for well-known providers.
 *
 * @example
 * const auth = defineOAuth2({ provider: "acme", authorizeUrl: "https://acme.example/oauth/authorize", tokenUrl: "https://acme.example/oauth/token", scopes: ["read"] });
 * const config = { type: "object", properties: { credentials: credentialsSchema(auth.credentials) }, required: ["credentials"] } as const;
 */
export function defineOAuth2<const P extends string, const K extends OAuth2CredentialsKind = "refresh_token", const X extends string = never>(
  options: OAuth2FlowOptions<K, P> & { extraResponseFields?: Readonly<Record<X, string>> },
): OAuth2Definition<K, P, X> {
  const kind = (options.credentials ?? "refresh_token") as K;
  return {
    oauth2: oauth2Spec(options),
    credentials: oauth2CredentialsSchema({ provider: options.provider, credentials: kind, extraFields: Object.keys(options.extraResponseFields ?? {}) as X[] }),
    kind,
  };
}

function titleCase(key: string): string {
  return key
    .split(/[_-]/)
    .filter(Boolean)
    .map((w) => (w === "url" || w === "id" ? w.toUpperCase() : w[0]!.toUpperCase() + w.slice(1)))
    .join(" ");
}
