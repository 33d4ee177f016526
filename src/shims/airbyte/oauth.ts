import type { OAuth2 } from "../../protocol/index.js";
import { FlowcapError } from "../../util/errors.js";
import { isPlainObject, type JsonObject } from "../../util/mergePatch.js";
import { toPointer } from "../../util/jsonPointer.js";
import type { AirbyteConnectorSpecification } from "./types.js";

/** Flow's `oauth2` derived from an Airbyte spec, or why it cannot be. */
export interface OAuth2Derivation {
  oauth2?: OAuth2;
  /** Why no `oauth2` was derived although the source describes an OAuth flow. */
  reason?: string;
}

const HOW = "give Flow's oauth2 object with --oauth2 FILE (the `oauth2` option)";

/**
 * Derives Flow's `oauth2` from what an Airbyte source declares, when that is sound:
 *
 * - Only a declarative `advanced_auth` (one with `oauth_connector_input_specification`, Airbyte's
 *   "Declarative OAuth") names the provider's endpoints. Its Jinja-like templates are rewritten
 *   as the Mustache Flow's host renders (`{{ client_id_value }}` → `{{{ client_id }}}`,
 *   `| urlEncoder` → `{{#urlencode}}`, `| b64encode` → `{{#basicauth}}`, `{{ subdomain }}` →
 *   `{{{ config.subdomain }}}`, ...). `access_token_params` become the token request's body:
 *   form-encoded when the headers say `application/x-www-form-urlencoded`, else JSON.
 * - Flow puts the tokens and the client credentials under the config's `credentials`, so every
 *   `path_in_connector_config` must be `["credentials", <field>]`.
 *
 * Anything else (a non-declarative `advanced_auth`, whose endpoints live in Airbyte's server;
 * the deprecated `authSpecification`, which has none; an expression or variable with no Flow
 * equivalent) gives a `reason` instead, for the caller to log.
 */
export function deriveOAuth2(spec: AirbyteConnectorSpecification): OAuth2Derivation {
  const advanced = spec.advanced_auth;
  if (isPlainObject(advanced)) {
    if (advanced.auth_flow_type !== undefined && advanced.auth_flow_type !== "oauth2.0") {
      return { reason: `the source's advanced_auth is an ${String(advanced.auth_flow_type)} flow, and Flow runs OAuth 2.0 flows only` };
    }
    const config = isPlainObject(advanced.oauth_config_specification) ? advanced.oauth_config_specification : {};
    const connector = config.oauth_connector_input_specification;
    if (!isPlainObject(connector)) {
      return {
        reason: `the source's advanced_auth does not name the provider's endpoints (it has no oauth_connector_input_specification: for such sources they live in Airbyte's server), so Flow's oauth2 cannot be derived; ${HOW}`,
      };
    }
    try {
      return { oauth2: fromDeclarative(connector, config) };
    } catch (error) {
      if (error instanceof NotDerivableError) return { reason: `Flow's oauth2 cannot be derived from the source's declarative OAuth: ${error.message}; ${HOW}` };
      throw error;
    }
  }
  if (spec.authSpecification !== undefined && spec.authSpecification !== null) {
    return { reason: `the source declares the deprecated authSpecification, which names its OAuth config fields but not the provider's endpoints; ${HOW}` };
  }
  return {};
}

/** The declarative OAuth has no sound Flow equivalent; deriveOAuth2 turns it into the reason it gives. */
class NotDerivableError extends FlowcapError {
  constructor(reason: string) {
    super("OAUTH_NOT_DERIVABLE", reason, { userFacing: true });
  }
}

const FLOW_VALUE: Record<string, string> = {
  client_id_value: "{{{ client_id }}}",
  client_secret_value: "{{{ client_secret }}}",
  redirect_uri_value: "{{{ redirect_uri }}}",
  state_value: "{{{ state }}}",
  state: "{{{ state }}}",
  auth_code_value: "{{{ code }}}",
  code_verifier_value: "{{{ code_verifier }}}",
  code_challenge_value: "{{{ code_challenge }}}",
  code_challenge_method_value: "{{{ code_challenge_method }}}",
};

const urlencode = (inner: string) => `{{#urlencode}}${inner}{{/urlencode}}`;

interface Context {
  keys: Record<string, string>;
  scope: string | undefined;
  /** Airbyte variable name → path in the connector config. */
  userInputs: Map<string, string[]>;
}

function fromDeclarative(connector: JsonObject, config: JsonObject): OAuth2 {
  const consentUrl = connector.consent_url;
  const accessTokenUrl = connector.access_token_url;
  if (typeof consentUrl !== "string" || typeof accessTokenUrl !== "string") throw new NotDerivableError("it has no consent_url or no access_token_url");

  const ctx: Context = {
    keys: {
      client_id: stringOr(connector.client_id_key, "client_id"),
      client_secret: stringOr(connector.client_secret_key, "client_secret"),
      redirect_uri: stringOr(connector.redirect_uri_key, "redirect_uri"),
      state: stringOr(connector.state_key, "state"),
      scope: stringOr(connector.scope_key, "scope"),
      code: stringOr(connector.auth_code_key, "code"),
    },
    scope: scopeOf(connector),
    userInputs: new Map(),
  };
  const userInputs = isPlainObject(config.oauth_user_input_from_connector_config_specification) ? config.oauth_user_input_from_connector_config_specification.properties : undefined;
  if (isPlainObject(userInputs)) {
    for (const [name, prop] of Object.entries(userInputs)) {
      const path = isPlainObject(prop) && Array.isArray(prop.path_in_connector_config) ? prop.path_in_connector_config : [name];
      if (!path.every((p) => typeof p === "string" && /^[A-Za-z_][\w-]*$/.test(p))) throw new NotDerivableError(`the config path of ${name} cannot be named in a Mustache template`);
      ctx.userInputs.set(name, path as string[]);
    }
  }

  const oauth2: OAuth2 = {
    provider: providerOf(consentUrl),
    authUrlTemplate: translate(consentUrl, ctx),
    accessTokenUrlTemplate: translate(accessTokenUrl, ctx),
  };

  const headers = isPlainObject(connector.access_token_headers) ? connector.access_token_headers : {};
  const accessTokenHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") throw new NotDerivableError(`access_token_headers.${name} is not a string`);
    accessTokenHeaders[name] = translate(value, ctx);
  }
  if (Object.keys(accessTokenHeaders).length) oauth2.accessTokenHeaders = accessTokenHeaders;

  const params = isPlainObject(connector.access_token_params) ? connector.access_token_params : undefined;
  if (params && Object.keys(params).length) {
    const contentType = Object.entries(headers).find(([k]) => k.toLowerCase() === "content-type")?.[1];
    const form = typeof contentType === "string" && contentType.toLowerCase().includes("x-www-form-urlencoded");
    const parts: string[] = [];
    for (const [name, value] of Object.entries(params)) {
      if (typeof value !== "string") throw new NotDerivableError(`access_token_params.${name} is not a string`);
      const v = translate(value, ctx);
      if (form) parts.push(`${encodeURIComponent(name)}=${isLiteral(v) ? encodeURIComponent(v) : urlencode(v)}`);
      else parts.push(`${JSON.stringify(name)}: ${isLiteral(v) ? JSON.stringify(v) : `"${v}"`}`);
    }
    oauth2.accessTokenBody = form ? parts.join("&") : `{${parts.join(", ")}}`;
  }

  // Where the tokens land: Flow maps the token response into `credentials`.
  const outputs = isPlainObject(config.complete_oauth_output_specification) ? config.complete_oauth_output_specification.properties : undefined;
  const responseMap: Record<string, string> = {};
  if (isPlainObject(outputs)) {
    for (const [name, prop] of Object.entries(outputs)) {
      if (!isPlainObject(prop)) continue;
      const field = credentialsField(prop.path_in_connector_config, name);
      const inResponse = Array.isArray(prop.path_in_oauth_response) ? (prop.path_in_oauth_response as string[]) : undefined;
      responseMap[field] = inResponse ? toPointer(inResponse) : name === "token_expiry_date" || name === connector.token_expiry_key ? "{{#now_plus}}{{ expires_in }}{{/now_plus}}" : toPointer([name]);
    }
  }
  if (Object.keys(responseMap).length === 0) throw new NotDerivableError("it does not say where the tokens go (no complete_oauth_output_specification)");
  oauth2.accessTokenResponseMap = responseMap;

  // Flow's host injects the client credentials as credentials.client_id and credentials.client_secret.
  const server = isPlainObject(config.complete_oauth_server_output_specification) ? config.complete_oauth_server_output_specification.properties : undefined;
  if (isPlainObject(server)) {
    for (const [name, prop] of Object.entries(server)) {
      if (name !== "client_id" && name !== "client_secret") {
        throw new NotDerivableError(`its server-side value ${name} is not one Flow's OAuth flow provides (only client_id and client_secret)`);
      }
      const field = credentialsField(isPlainObject(prop) ? prop.path_in_connector_config : undefined, name);
      if (field !== name) throw new NotDerivableError(`it puts ${name} at credentials.${field}, and Flow injects it as credentials.${name}`);
    }
  }
  return oauth2;
}

/** `["credentials", field]` → field; anything else is unsound. */
function credentialsField(path: unknown, name: string): string {
  if (!Array.isArray(path)) throw new NotDerivableError(`it does not say where ${name} goes in the config`);
  if (path.length !== 2 || path[0] !== "credentials" || typeof path[1] !== "string") {
    throw new NotDerivableError(`it puts ${name} at ${path.join(".")}, and Flow puts OAuth values under credentials`);
  }
  return path[1];
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" && value ? value : fallback;
}

function scopeOf(connector: JsonObject): string | undefined {
  if (typeof connector.scope === "string") return connector.scope;
  if (Array.isArray(connector.scopes)) {
    const scopes = connector.scopes.map((s) => (isPlainObject(s) ? s.scope : s)).filter((s): s is string => typeof s === "string");
    const joiner = { space: " ", comma: ",", plus: "+" }[String(connector.scopes_join_strategy ?? "space")] ?? " ";
    return scopes.join(joiner);
  }
  return undefined;
}

/** The provider key Flow's UI shows: the registrable name of the consent URL's host (`zendesk`, `airtable`). */
function providerOf(url: string): string {
  const host = /^[a-z]+:\/\/([^/?#]+)/i.exec(url)?.[1] ?? "";
  const labels = host
    .replace(/\{\{.*?\}\}/g, "")
    .split(".")
    .filter((l) => /^[a-z0-9-]+$/i.test(l));
  return (labels.length >= 2 ? labels[labels.length - 2]! : labels[0] ?? "oauth").toLowerCase();
}

/** True when a translated template holds no Mustache at all. */
function isLiteral(template: string): boolean {
  return !template.includes("{{");
}

/** Rewrites one Airbyte template (`{{ expr }}` placeholders in literal text) as Mustache. */
function translate(template: string, ctx: Context): string {
  if (/\{%|\{#/.test(template)) throw new NotDerivableError(`the template ${JSON.stringify(template)} uses Jinja statements`);
  let out = "";
  let last = 0;
  for (const match of template.matchAll(/\{\{(.*?)\}\}/g)) {
    out += template.slice(last, match.index);
    out += expression(match[1]!.trim(), ctx, template);
    last = match.index! + match[0].length;
  }
  const rest = template.slice(last);
  if (rest.includes("{{") || rest.includes("}}")) throw new NotDerivableError(`the template ${JSON.stringify(template)} has an unbalanced placeholder`);
  return out + rest;
}

/** One `{{ ... }}` expression: `term (| filter)*`, where a term may be `(a ~ ':' ~ b)`. */
function expression(expr: string, ctx: Context, template: string): string {
  const [head, ...filters] = splitFilters(expr);
  let value: Rendered = term(head!.trim(), ctx, template);
  for (const raw of filters) {
    const filter = raw.trim();
    switch (filter) {
      case "urlEncoder":
      case "urlEncode":
      case "urlencode":
        value = value.literal !== undefined ? lit(encodeURIComponent(value.literal)) : tpl(urlencode(value.template));
        break;
      case "b64encode":
      case "base64Encoder":
      case "base64encode":
        value = value.literal !== undefined ? lit(Buffer.from(value.literal).toString("base64")) : tpl(`{{#basicauth}}${value.template}{{/basicauth}}`);
        break;
      case "codeChallengeS256":
        if (value.template !== FLOW_VALUE.code_verifier_value) throw new NotDerivableError(`codeChallengeS256 applies to the code verifier only, in ${JSON.stringify(template)}`);
        value = tpl("{{{ code_challenge }}}");
        break;
      default:
        throw new NotDerivableError(`the filter ${JSON.stringify(filter)} in ${JSON.stringify(template)} has no Flow equivalent`);
    }
  }
  return value.literal ?? value.template;
}

type Rendered = { literal: string; template: string } | { literal?: undefined; template: string };
const lit = (s: string): Rendered => ({ literal: s, template: s });
const tpl = (s: string): Rendered => ({ template: s });

function splitFilters(expr: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "|" && depth === 0) {
      parts.push(expr.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(expr.slice(start));
  return parts;
}

function term(text: string, ctx: Context, template: string): Rendered {
  if (text.startsWith("(") && text.endsWith(")")) {
    // A concatenation: (a ~ ':' ~ b).
    const pieces = text
      .slice(1, -1)
      .split("~")
      .map((p) => term(p.trim(), ctx, template));
    return pieces.every((p) => p.literal !== undefined) ? lit(pieces.map((p) => p.literal).join("")) : tpl(pieces.map((p) => p.template).join(""));
  }
  const quoted = /^'([^']*)'$|^"([^"]*)"$/.exec(text);
  if (quoted) return lit(quoted[1] ?? quoted[2] ?? "");
  if (text in FLOW_VALUE) return tpl(FLOW_VALUE[text]!);
  if (text === "scope_value" || text === "scopes_value") return lit(ctx.scope ?? "");
  const param = /^(client_id|client_secret|redirect_uri|state|scope|scopes|auth_code)_param$/.exec(text)?.[1];
  if (param) {
    switch (param) {
      case "scope":
      case "scopes":
        return lit(`${ctx.keys.scope}=${encodeURIComponent(ctx.scope ?? "")}`);
      case "auth_code":
        return tpl(`${ctx.keys.code}=${urlencode("{{{ code }}}")}`);
      default:
        return tpl(`${ctx.keys[param]}=${urlencode(`{{{ ${param} }}}`)}`);
    }
  }
  const path = ctx.userInputs.get(text);
  if (path) return tpl(`{{{ config.${path.join(".")} }}}`);
  throw new NotDerivableError(`the variable ${JSON.stringify(text)} in ${JSON.stringify(template)} has no Flow equivalent`);
}
