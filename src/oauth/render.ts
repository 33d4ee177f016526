import Mustache from "mustache";
import type { OAuth2 } from "../protocol/index.js";
import { isPlainObject } from "../util/mergePatch.js";
import { getPointer } from "../util/jsonPointer.js";
import { OAuthError } from "./errors.js";

/**
 * Flow's host renders a connector's `oauth2` templates in Estuary's `oauth` edge function
 * (flow-protocol.md §11.2): `Mustache.render(template, {...variables, ...helpers})` with the npm
 * `mustache` package, default tags and HTML escaping. Everything here reproduces that call, the
 * variables it passes for each template, and what it does with the results, so that a template
 * renders here byte for byte as it will for the host.
 */

/** The redirect URI the host puts in the token URL when the caller gave none. */
export const HOST_DEFAULT_REDIRECT_URI = "https://dashboard.estuary.dev/oauth";

/** The redirect URI `flowctl raw oauth` uses (and flowcap's local flow by default). */
export const FLOWCTL_REDIRECT_URI = "http://localhost:16963/";

/** The only PKCE method the host uses. */
export const CODE_CHALLENGE_METHOD = "S256";

/** The helpers the host adds to every view. */
export const HELPER_NAMES = ["urlencode", "basicauth", "now_plus"] as const;
export type HelperName = (typeof HELPER_NAMES)[number];

/** Mustache's own escaping, captured at load so a caller changing `Mustache.escape` cannot change ours. */
const HOST_ESCAPE = Mustache.escape;
const HOST_TAGS: [string, string] = ["{{", "}}"];

export interface RenderOptions {
  /** The clock `now_plus` reads; the current time by default. */
  now?: () => Date;
  /** Names the template in error messages, such as `oauth2.authUrlTemplate`. */
  label?: string;
}

type Lambda = (text: string, render: (text: string) => string) => string;

/**
 * The host's helpers, as Mustache lambdas: the section's body is rendered first, then
 * `urlencode` applies encodeURIComponent, `basicauth` btoa (Latin-1, as in the browser), and
 * `now_plus` adds parseInt(body) seconds to now and gives an ISO-8601 timestamp.
 */
export function mustacheHelpers(now: () => Date = () => new Date()): Record<HelperName, () => Lambda> {
  return {
    urlencode: () => (text, render) => encodeURIComponent(render(text)),
    basicauth: () => (text, render) => btoa(render(text)),
    now_plus: () => (text, render) => {
      const rendered = render(text);
      const seconds = parseInt(rendered);
      const at = new Date(now().getTime() + seconds * 1000);
      if (Number.isNaN(at.getTime())) {
        // The host's `new Date(NaN).toISOString()` throws too.
        throw new OAuthError("OAUTH_TEMPLATE", `now_plus needs a number of seconds, got ${JSON.stringify(rendered)}`);
      }
      return at.toISOString();
    },
  };
}

/**
 * Renders one template exactly as the host does: `Mustache.render(template, {...view,
 * ...helpers})`. `{{x}}` is HTML-escaped (`/` becomes `&#x2F;`), `{{{x}}}` and `{{& x}}` are raw,
 * sections and dotted names work. Throws an OAuthError (`OAUTH_TEMPLATE`) for a template that does
 * not parse or a helper that fails.
 */
export function renderTemplate(template: string, view: Record<string, unknown>, options: RenderOptions = {}): string {
  try {
    return Mustache.render(template, { ...view, ...mustacheHelpers(options.now) }, undefined, { tags: HOST_TAGS, escape: HOST_ESCAPE });
  } catch (error) {
    const where = options.label ? `${options.label}: ` : "";
    if (error instanceof OAuthError) throw new OAuthError("OAUTH_TEMPLATE", where + error.message, { cause: error });
    throw new OAuthError("OAUTH_TEMPLATE", `${where}the template does not render: ${(error as Error).message}`, { cause: error });
  }
}

/** The variables of the authorize URL (`authUrlTemplate`). */
export interface AuthUrlVariables {
  clientId: string;
  /** A fresh random value the redirect must echo (see createState). */
  state: string;
  /** The host's default is HOST_DEFAULT_REDIRECT_URI. */
  redirectUri?: string;
  /** The user's endpoint config, as `config.*`. */
  config?: Record<string, unknown>;
  /** base64url(SHA-256(code_verifier)), see createPkce. */
  codeChallenge?: string;
}

/** The view the host renders `authUrlTemplate` with. */
export function authUrlView(vars: AuthUrlVariables): Record<string, unknown> {
  return {
    state: vars.state,
    redirect_uri: vars.redirectUri ?? HOST_DEFAULT_REDIRECT_URI,
    client_id: vars.clientId,
    config: vars.config,
    code_challenge: vars.codeChallenge,
    code_challenge_method: CODE_CHALLENGE_METHOD,
  };
}

/** Renders the authorize URL the host sends the user to. */
export function renderAuthUrl(oauth2: Pick<OAuth2, "authUrlTemplate">, vars: AuthUrlVariables, options: RenderOptions = {}): string {
  return renderTemplate(oauth2.authUrlTemplate, authUrlView(vars), { ...options, label: "oauth2.authUrlTemplate" });
}

/** The variables of the token request (`accessTokenUrlTemplate`, `accessTokenBody`, `accessTokenHeaders`). */
export interface TokenRequestVariables {
  clientId: string;
  clientSecret: string;
  /**
   * The redirect URI of the authorization request. The host defaults it to
   * HOST_DEFAULT_REDIRECT_URI in the URL only; the body and headers get it as given.
   */
  redirectUri?: string;
  config?: Record<string, unknown>;
  codeVerifier?: string;
  /** Per-connector values the host keeps in its database (`oauth2_injected_values`). */
  injectedValues?: Record<string, unknown>;
  /** The redirect's query parameters other than `state`: `code`, and any extra a provider sends. */
  params?: Record<string, unknown>;
}

/** A token request as the host sends it. */
export interface TokenRequest {
  /** Always POST: the host ignores `accessTokenMethod`. */
  method: "POST";
  url: string;
  /**
   * In the order the host builds them: `accept: application/json`, `content-type:
   * application/json` unless the template sets a content type (any case), then the rendered
   * `accessTokenHeaders`. (The host also adds its own CORS response headers, which no provider
   * reads; they are left out.)
   */
  headers: Record<string, string>;
  /** null when `accessTokenBody` is empty or absent (no body is sent). */
  body: string | null;
}

/** The views the host renders the token URL, and the body and headers, with. */
export function tokenRequestViews(vars: TokenRequestVariables): { url: Record<string, unknown>; body: Record<string, unknown> } {
  const rest = {
    client_id: vars.clientId,
    client_secret: vars.clientSecret,
    config: vars.config,
    code_verifier: vars.codeVerifier,
    ...vars.injectedValues,
    ...vars.params,
  };
  return {
    url: { redirect_uri: vars.redirectUri ?? HOST_DEFAULT_REDIRECT_URI, ...rest },
    body: { redirect_uri: vars.redirectUri, ...rest },
  };
}

/** The variables of a refresh request: rendered by flowcap's token source, never by the host (flow-protocol.md §11.1). */
export interface RefreshRequestVariables {
  clientId: string;
  clientSecret: string;
  refreshToken?: string;
  config?: Record<string, unknown>;
}

/**
 * The views flowcap's token source renders the refresh templates with. The URL
 * (`refreshTokenUrlTemplate`, else `accessTokenUrlTemplate`) gets no secret, so none can end up in
 * a URL (RFC 6749 §2.3.1); `refreshTokenBody` and `refreshTokenHeaders` also get the client secret
 * and the refresh token.
 */
export function refreshRequestViews(vars: RefreshRequestVariables): { url: Record<string, unknown>; body: Record<string, unknown> } {
  const config = vars.config ?? {};
  return {
    url: { client_id: vars.clientId, config },
    body: { client_id: vars.clientId, client_secret: vars.clientSecret, refresh_token: vars.refreshToken, config },
  };
}

/**
 * Renders the token request the host makes after the redirect: the URL, the body (if any) and
 * the headers (the headers object is JSON-stringified, rendered as one template and parsed back,
 * exactly as the host does, so `{{{x}}}` with a `"` in the value breaks it here as it would there).
 */
export function renderTokenRequest(
  oauth2: Pick<OAuth2, "accessTokenUrlTemplate" | "accessTokenBody" | "accessTokenHeaders">,
  vars: TokenRequestVariables,
  options: RenderOptions = {},
): TokenRequest {
  const views = tokenRequestViews(vars);
  const url = renderTemplate(oauth2.accessTokenUrlTemplate, views.url, { ...options, label: "oauth2.accessTokenUrlTemplate" });
  const body = oauth2.accessTokenBody ? renderTemplate(oauth2.accessTokenBody, views.body, { ...options, label: "oauth2.accessTokenBody" }) : null;
  const rendered = renderHeaders(oauth2.accessTokenHeaders, views.body, { ...options, label: "oauth2.accessTokenHeaders" });
  const hasContentType = Object.keys(rendered).some((h) => h.toLowerCase() === "content-type");
  const headers: Record<string, string> = { accept: "application/json", ...(hasContentType ? {} : { "content-type": "application/json" }) };
  // fetch() turns each header value into a string, objects included ("[object Object]").
  for (const [name, value] of Object.entries(rendered)) headers[name] = String(value);
  return { method: "POST", url, headers, body };
}

/** Renders a headers map the host's way: stringify, render, parse. */
export function renderHeaders(headers: Record<string, unknown> | undefined, view: Record<string, unknown>, options: RenderOptions = {}): Record<string, unknown> {
  if (!headers) return {};
  const text = renderTemplate(JSON.stringify(headers), view, options);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new OAuthError(
      "OAUTH_TEMPLATE",
      `${options.label ?? "headers"}: the rendered headers are not valid JSON (a value with a quote or backslash rendered with {{{ }}}?): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return isPlainObject(parsed) ? parsed : {};
}

/**
 * Applies `accessTokenResponseMap` to the provider's token response as the host does: a value
 * starting with `/` is a JSON pointer into the response, anything else a template rendered with
 * the response's fields (and the helpers) as its view. Only the mapped keys are kept, and a
 * pointer to nothing leaves its key out (the host's JSON.stringify drops undefined). The token
 * source applies `refreshTokenResponseMap` to refresh responses the same way (`mapName` names it
 * in errors).
 */
export function applyResponseMap(map: Record<string, unknown> | undefined, response: unknown, options: RenderOptions = {}, mapName = "accessTokenResponseMap"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!map) return out;
  const view: Record<string, unknown> = isPlainObject(response) ? response : Array.isArray(response) ? { ...response } : {};
  for (const key of Object.keys(map)) {
    const spec = map[key];
    if (typeof spec !== "string") {
      throw new OAuthError("OAUTH_TEMPLATE", `oauth2.${mapName}.${key}: must be a string (a /pointer or a template), got ${JSON.stringify(spec)}; the host fails on it`);
    }
    const value = spec.startsWith("/") ? getPointer(response, spec) : renderTemplate(spec, view, { ...options, label: `oauth2.${mapName}.${key}` });
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** One variable or section a template refers to. */
export interface TemplateReference {
  /** The name as written, such as `client_id` or `config.subdomain`. */
  name: string;
  /** `{{x}}` (escaped), `{{{x}}}`/`{{& x}}` (raw), `{{#x}}` (section) or `{{^x}}` (inverted section). */
  kind: "escaped" | "raw" | "section" | "inverted";
  /** The enclosing sections, outermost first (helpers included). */
  sections: string[];
  /** Character offset in the template. */
  offset: number;
}

/**
 * Lists the variables and sections a template uses, with their enclosing sections. Throws an
 * OAuthError for a template Mustache cannot parse.
 */
export function templateReferences(template: string, label?: string): TemplateReference[] {
  let tokens: Mustache.TemplateSpans;
  try {
    tokens = Mustache.parse(template, HOST_TAGS);
  } catch (error) {
    throw new OAuthError("OAUTH_TEMPLATE", `${label ? `${label}: ` : ""}the template does not parse: ${(error as Error).message}`, { cause: error });
  }
  const out: TemplateReference[] = [];
  const walk = (spans: Mustache.TemplateSpans, sections: string[]) => {
    for (const span of spans) {
      const [type, name, start] = span;
      if (type === "name" || type === "&") out.push({ name, kind: type === "name" ? "escaped" : "raw", sections, offset: start });
      else if (type === "#" || type === "^") {
        out.push({ name, kind: type === "#" ? "section" : "inverted", sections, offset: start });
        walk(span[4] as Mustache.TemplateSpans, [...sections, name]);
      }
    }
  };
  walk(tokens, []);
  return out;
}
