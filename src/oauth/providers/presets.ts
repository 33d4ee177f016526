import { defineOAuth2, type OAuth2Definition } from "../spec.js";

/**
 * Presets for well-known providers: their endpoints, how they authenticate clients, whether they
 * take PKCE and issue refresh tokens, and the parameters they need for offline access. Each
 * returns the same thing as defineOAuth2.
 */

interface ScopeOptions {
  /** Scopes to request, in this order. */
  scopes?: readonly string[];
}

/**
 * GitHub (OAuth apps and GitHub apps). OAuth-app tokens do not expire, so the credentials keep the
 * access token; a GitHub app with expiring user tokens passes `credentials: "rotating"`.
 * GitHub reads the client secret from the form and supports PKCE (S256).
 */
export function github<const K extends "access_token" | "rotating" = "access_token">(options: ScopeOptions & { credentials?: K } = {}): OAuth2Definition<K, "github"> {
  return defineOAuth2({
    provider: "github",
    authorizeUrl: "https://github.com/login/oauth/authorize",
    tokenUrl: "https://github.com/login/oauth/access_token",
    scopes: options.scopes,
    credentials: (options.credentials ?? "access_token") as K,
    clientAuthentication: "client_secret_post",
  });
}

/**
 * Google. `access_type=offline` and `prompt=consent` make Google issue a refresh token every
 * time (it omits it on re-consent otherwise).
 */
export function google(options: ScopeOptions = {}): OAuth2Definition<"refresh_token", "google"> {
  return defineOAuth2({
    provider: "google",
    authorizeUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    scopes: options.scopes,
    authorizeParams: { access_type: "offline", prompt: "consent" },
    credentials: "refresh_token",
  });
}

/**
 * Microsoft identity platform (v2.0 endpoints). `offline_access` is added to the scopes, since
 * Microsoft issues no refresh token without it; the token request repeats the scopes, as
 * Microsoft expects. `tenant` is `common` by default; `{ configKey: "tenant_id" }` takes it from
 * the endpoint config.
 */
export function microsoft(options: ScopeOptions & { tenant?: string | { configKey: string } } = {}): OAuth2Definition<"refresh_token", "microsoft"> {
  const tenant =
    typeof options.tenant === "object" ? `{{#urlencode}}{{{ config.${options.tenant.configKey} }}}{{/urlencode}}` : encodeURIComponent(options.tenant ?? "common");
  const scopes = [...(options.scopes ?? [])];
  if (!scopes.includes("offline_access")) scopes.push("offline_access");
  const base = `https://login.microsoftonline.com/${tenant}/oauth2/v2.0`;
  return defineOAuth2({
    provider: "microsoft",
    authorizeUrl: `${base}/authorize`,
    tokenUrl: `${base}/token`,
    scopes,
    authorizeParams: { response_mode: "query" },
    tokenParams: { scope: scopes.join(" ") },
    credentials: "refresh_token",
  });
}

/**
 * Salesforce. Keeps `instance_url`, which the connector calls the API at. With `sandboxConfigKey`
 * the flow signs in at test.salesforce.com when that config flag is true.
 */
export function salesforce(options: ScopeOptions & { sandboxConfigKey?: string } = {}): OAuth2Definition<"refresh_token", "salesforce", "instance_url"> {
  const host = options.sandboxConfigKey
    ? `{{#config.${options.sandboxConfigKey}}}test{{/config.${options.sandboxConfigKey}}}{{^config.${options.sandboxConfigKey}}}login{{/config.${options.sandboxConfigKey}}}.salesforce.com`
    : "login.salesforce.com";
  return defineOAuth2({
    provider: "salesforce",
    authorizeUrl: `https://${host}/services/oauth2/authorize`,
    tokenUrl: `https://${host}/services/oauth2/token`,
    scopes: options.scopes ?? ["api", "refresh_token"],
    credentials: "refresh_token",
    extraResponseFields: { instance_url: "/instance_url" },
  });
}

/**
 * HubSpot. Scopes the app may lack go in `optionalScopes`. HubSpot takes the client secret in the
 * form; PKCE is not part of its documented flow, so it is off.
 */
export function hubspot(options: ScopeOptions & { optionalScopes?: readonly string[] } = {}): OAuth2Definition<"refresh_token", "hubspot"> {
  return defineOAuth2({
    provider: "hubspot",
    authorizeUrl: "https://app.hubspot.com/oauth/authorize",
    tokenUrl: "https://api.hubapi.com/oauth/v1/token",
    scopes: options.scopes,
    authorizeParams: options.optionalScopes?.length ? { optional_scope: options.optionalScopes.join(" ") } : undefined,
    pkce: false,
    credentials: "refresh_token",
  });
}

/** The presets by provider name. */
export const oauth2Providers = { github, google, microsoft, salesforce, hubspot } as const;
