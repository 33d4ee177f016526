import type { OAuth2 } from "../protocol/index.js";
import { isPlainObject } from "../util/mergePatch.js";
import { OAuthError } from "./errors.js";
import { alternatives, isSecret, isSensitiveName, oauthBranches, resolve, type Located, type Schema } from "./schema.js";
import { CODE_CHALLENGE_METHOD, HELPER_NAMES, refreshRequestViews, renderAuthUrl, renderTemplate, templateReferences, type TemplateReference } from "./render.js";

/**
 * Checks a connector's `oauth2` block and its `credentials` config schema for the mistakes that
 * make a one-click OAuth connector fail in Flow, before it ships. Each finding names a rule, a
 * severity, where it is, and what to do.
 */

/** `waived`: the spec waives the finding's rule, with a reason (see `LINT_WAIVERS_KEYWORD`). */
export type OAuthLintSeverity = "error" | "warning" | "waived";

export type OAuthLintRule =
  /** A template Mustache cannot parse. */
  | "template-syntax"
  /** `client_secret` (or the PKCE verifier) in a URL: RFC 6749 §2.3.1, RFC 7636 §4.5. */
  | "secret-in-url"
  /** `{{x}}` HTML-escapes a value that may contain `/`, `&`, `=` …: use `{{{x}}}`. */
  | "escaped-variable"
  /** A raw value in a URL or form body that is not inside `{{#urlencode}}`. */
  | "unencoded-variable"
  /** A variable the host does not provide to that template (it renders empty). */
  | "unknown-variable"
  /** `config.x` where the endpoint config schema has no `x`. */
  | "unknown-config-property"
  /** An authorize URL without `state` (RFC 6749 §10.12). */
  | "state-missing"
  /** code_challenge without code_verifier, or the reverse, or a method other than S256 (RFC 7636). */
  | "pkce-inconsistent"
  /** redirect_uri sent in the authorization request but not in the token request (RFC 6749 §4.1.3). */
  | "redirect-uri-missing"
  /** The config schema has no `credentials` property. */
  | "credentials-missing"
  /** `credentials` is not in the config schema's top-level `required`. */
  | "credentials-not-required"
  /** No credentials schema carries `x-oauth2-provider`, so Flow's UI shows no OAuth button. */
  | "credentials-no-provider"
  /** `x-oauth2-provider` differs from `oauth2.provider`. */
  | "provider-mismatch"
  /** Several auth methods without a discriminator Flow's UI can use. */
  | "credentials-discriminator"
  /** A client id, secret or token property not marked `secret: true`. */
  | "secret-not-marked"
  /** A required credentials property that the OAuth flow does not fill. */
  | "credentials-unfilled"
  /** A response map key the credentials schema does not have. */
  | "response-map-unknown-key"
  /** A response map that is empty, or has a non-string value or a malformed pointer. */
  | "response-map-invalid"
  /** The credentials need `refresh_token`, but the response map does not keep it. */
  | "refresh-token-dropped"
  /** `accessTokenMethod` other than POST: the host always POSTs. */
  | "method-ignored"
  /** A refresh field flowcap's token source does not use (headers or method without a body). */
  | "refresh-ignored"
  /** A `refreshTokenResponseMap` without `access_token`: the token source could never read a token. */
  | "refresh-map-no-token"
  /** A token URL whose host the Flow host's URL validation refuses. */
  | "token-url-host"
  /** A waiver without a known rule or a reason. */
  | "waiver-invalid"
  /** A waiver that matches no finding (the spec was fixed, or the waiver names the wrong place). */
  | "waiver-unused";

export interface OAuthLintFinding {
  rule: OAuthLintRule;
  severity: OAuthLintSeverity;
  /** Where: `oauth2.authUrlTemplate`, `configSchema.$defs.OAuth.properties.client_secret`, … */
  path: string;
  message: string;
  /** For a waived finding: the severity it had, and the spec's reason for waiving it. */
  waiver?: { severity: "error" | "warning"; reason: string };
}

/**
 * The config schema annotation by which a spec waives lint rules it cannot follow, each with its
 * reason: `"x-flowcap-lint-waivers": [{"rule": "secret-in-url", "path": "oauth2.accessTokenUrlTemplate",
 * "reason": "..."}]` at the config schema's root (`path` is optional: without it the rule is
 * waived everywhere). Some providers force what the lint flags (Facebook's token endpoint takes
 * the client secret in its URL); a waived finding is still reported, as `waived` with its reason,
 * and does not fail the lint. It lives in the config schema because Flow refuses unknown fields
 * in `oauth2`, while a schema may carry `x-` annotations (and `spec.patch.json` can add one).
 */
export const LINT_WAIVERS_KEYWORD = "x-flowcap-lint-waivers";

/** One waiver of `LINT_WAIVERS_KEYWORD`. */
export interface OAuthLintWaiver {
  rule: OAuthLintRule;
  /** Where, as findings name it (`oauth2.accessTokenUrlTemplate`); every place when absent. */
  path?: string;
  reason: string;
}

/** What lintOAuth reads: a connector's spec response (or just these two fields). */
export interface OAuthLintTarget {
  /** The endpoint config schema (Flow types it as any JSON schema, booleans included). */
  configSchema?: unknown;
  oauth2?: OAuth2;
}

export interface OAuthLintOptions {
  /**
   * Variables the host will also pass to the token templates: `oauth2_injected_values` kept for
   * the connector, or extra redirect parameters a provider sends (such as Shopify's `shop`).
   * Not the refresh templates: flowcap's token source renders those, with its own variables.
   */
  extraTokenVariables?: readonly string[];
}

/** The variables the host passes to each template (flow-protocol.md §11.2). */
export const AUTH_URL_VARIABLES = ["state", "redirect_uri", "client_id", "config", "code_challenge", "code_challenge_method"] as const;
export const TOKEN_REQUEST_VARIABLES = ["redirect_uri", "client_id", "client_secret", "config", "code_verifier", "code"] as const;
/**
 * The variables flowcap's token source passes to the refresh templates, which the host never
 * renders (flow-protocol.md §11.1): the URL gets no secret; the body and headers get the client
 * secret and the refresh token too. (The proto comments also promise `redirect_uri`; no renderer
 * passes it to a refresh.)
 */
export const REFRESH_URL_VARIABLES: readonly string[] = Object.keys(refreshRequestViews({ clientId: "", clientSecret: "" }).url);
export const REFRESH_REQUEST_VARIABLES: readonly string[] = Object.keys(refreshRequestViews({ clientId: "", clientSecret: "" }).body);

/** Values whose characters HTML escaping never changes: the host's state, PKCE values and method. */
const ESCAPE_SAFE = new Set(["state", "code_challenge", "code_challenge_method", "code_verifier"]);
/** Values that certainly contain characters `{{x}}` mangles, or come from outside and may. */
const ESCAPE_FATAL = new Set(["redirect_uri", "client_id", "client_secret", "code", "refresh_token"]);


/**
 * Lints a spec's OAuth: the `oauth2` templates (syntax, secrets in URLs, escaping and encoding,
 * variables the host provides, state, PKCE, redirect URI, response map), the refresh templates
 * flowcap's token source renders (the same rules, its variables), and the `credentials`
 * schema they fill (present and required, `x-oauth2-provider`, discriminator, secrets marked,
 * refresh token kept). Returns no findings for a spec without `oauth2`, unless its schema asks for
 * OAuth. `flowcap oauth lint` prints these; `flowcap check` includes them.
 */
export function lintOAuth(spec: OAuthLintTarget, options: OAuthLintOptions = {}): OAuthLintFinding[] {
  const findings: OAuthLintFinding[] = [];
  const seen = new Set<string>();
  const add = (rule: OAuthLintRule, severity: OAuthLintSeverity, path: string, message: string) => {
    const key = `${rule}\u0000${path}\u0000${message}`;
    if (!seen.has(key)) {
      seen.add(key);
      findings.push({ rule, severity, path, message });
    }
  };
  const schema = isPlainObject(spec.configSchema) ? spec.configSchema : {};
  const oauth2 = spec.oauth2;

  if (!oauth2) {
    const props = isPlainObject(schema.properties) ? schema.properties : {};
    if (isPlainObject(props.credentials)) {
      const located = resolve(schema, { node: props.credentials, path: "configSchema.properties.credentials" });
      const branches = oauthBranches(schema, located);
      if (branches.length > 0) add("credentials-no-provider", "warning", branches[0]!.path, "the credentials schema has x-oauth2-provider but the spec has no oauth2 block, so Flow cannot run the OAuth flow");
    }
    return findings;
  }
  const credentials = lintCredentialsProperty(schema, add);
  const branches = credentials ? oauthBranches(schema, credentials) : [];

  lintTemplates(oauth2, schema, options, add);
  lintResponseMap(oauth2, add);
  if (credentials) lintBranches(oauth2, schema, credentials, branches, add);
  return applyWaivers(findings, schema);
}

const WAIVABLE = new Set<string>([
  "template-syntax", "secret-in-url", "escaped-variable", "unencoded-variable", "unknown-variable", "unknown-config-property", "state-missing",
  "pkce-inconsistent", "redirect-uri-missing", "credentials-missing", "credentials-not-required", "credentials-no-provider", "provider-mismatch",
  "credentials-discriminator", "secret-not-marked", "credentials-unfilled", "response-map-unknown-key", "response-map-invalid", "refresh-token-dropped",
  "method-ignored", "refresh-ignored", "refresh-map-no-token", "token-url-host",
] satisfies OAuthLintRule[]);

/** Marks the findings the spec waives (see LINT_WAIVERS_KEYWORD), and reports waivers that are malformed or match nothing. */
function applyWaivers(findings: OAuthLintFinding[], schema: Schema): OAuthLintFinding[] {
  const raw = schema[LINT_WAIVERS_KEYWORD];
  if (raw === undefined) return findings;
  const where = `configSchema.${LINT_WAIVERS_KEYWORD}`;
  if (!Array.isArray(raw)) {
    return [...findings, { rule: "waiver-invalid", severity: "error", path: where, message: 'must be a list of {"rule", "path"?, "reason"}' }];
  }
  const out = [...findings];
  raw.forEach((w: unknown, i) => {
    const at = `${where}[${i}]`;
    if (!isPlainObject(w) || typeof w.rule !== "string" || !WAIVABLE.has(w.rule)) {
      out.push({ rule: "waiver-invalid", severity: "error", path: at, message: `names no lint rule that can be waived (${JSON.stringify(isPlainObject(w) ? w.rule : w)})` });
      return;
    }
    if (typeof w.reason !== "string" || w.reason.trim() === "") {
      out.push({ rule: "waiver-invalid", severity: "error", path: at, message: `waives ${w.rule} without a reason: say why the spec cannot follow the rule` });
      return;
    }
    if (w.path !== undefined && typeof w.path !== "string") {
      out.push({ rule: "waiver-invalid", severity: "error", path: at, message: "path must be a string such as oauth2.accessTokenUrlTemplate" });
      return;
    }
    let used = false;
    for (const [j, f] of out.entries()) {
      if (f.rule !== w.rule || (w.path !== undefined && f.path !== w.path) || f.severity === "waived") continue;
      out[j] = { ...f, severity: "waived", waiver: { severity: f.severity as "error" | "warning", reason: w.reason } };
      used = true;
    }
    if (!used) out.push({ rule: "waiver-unused", severity: "warning", path: at, message: `waives ${w.rule}${w.path ? ` at ${w.path}` : ""}, which the lint does not find: remove the waiver` });
  });
  return out;
}

type Add = (rule: OAuthLintRule, severity: OAuthLintSeverity, path: string, message: string) => void;
type Parse = (template: string | undefined, path: string) => TemplateReference[] | undefined;
/** Checks one template's references: the variables `known` to its renderer, escaping, encoding for its `kind`. */
type Check = (refs: TemplateReference[] | undefined, path: string, known: Set<string>, kind: "url" | "form" | "json" | "header" | "other", renderer?: string) => void;

function lintTemplates(oauth2: OAuth2, schema: Schema, options: OAuthLintOptions, add: Add): void {
  const parse: Parse = (template, path) => {
    if (template === undefined || template === "") return [];
    try {
      return templateReferences(template, path);
    } catch (error) {
      add("template-syntax", "error", path, (error as OAuthError).message.replace(`${path}: `, ""));
      return undefined;
    }
  };
  const headersText = oauth2.accessTokenHeaders ? JSON.stringify(oauth2.accessTokenHeaders) : "";
  const contentType = Object.entries(oauth2.accessTokenHeaders ?? {}).find(([k]) => k.toLowerCase() === "content-type")?.[1];
  const bodyKind = typeof contentType === "string" && /x-www-form-urlencoded/i.test(contentType) ? "form" : contentType === undefined || /json/i.test(String(contentType)) ? "json" : "other";

  const auth = parse(oauth2.authUrlTemplate, "oauth2.authUrlTemplate");
  const tokenUrl = parse(oauth2.accessTokenUrlTemplate, "oauth2.accessTokenUrlTemplate");
  const body = parse(oauth2.accessTokenBody, "oauth2.accessTokenBody");
  const headers = parse(headersText, "oauth2.accessTokenHeaders");

  const tokenVariables = new Set<string>([...TOKEN_REQUEST_VARIABLES, ...(options.extraTokenVariables ?? [])]);
  const check: Check = (refs, path, known, kind, renderer = "the host") => {
    if (!refs) return;
    for (const ref of refs) {
      const head = ref.name.split(".")[0]!;
      const inHelper = (h: string) => ref.sections.includes(h);
      if (ref.kind === "section" && (HELPER_NAMES as readonly string[]).includes(ref.name)) continue;
      const insideOtherSection = ref.sections.some((s) => !(HELPER_NAMES as readonly string[]).includes(s));
      if (ref.name !== "." && !known.has(head) && !insideOtherSection) {
        add("unknown-variable", "error", path, `{{${ref.name}}}: ${renderer} does not pass "${head}" to this template, so it renders empty (it has: ${[...known].join(", ")})`);
      }
      if (head === "config" && ref.name !== "config" && !configPathExists(schema, ref.name.split(".").slice(1))) {
        add("unknown-config-property", "warning", path, `{{${ref.name}}}: the endpoint config schema has no ${ref.name.slice("config.".length)}, so this renders empty`);
      }
      if (ref.kind === "escaped" && !ESCAPE_SAFE.has(head) && !inHelper("now_plus")) {
        const severity = ESCAPE_FATAL.has(head) ? "error" : "warning";
        add("escaped-variable", severity, path, `{{${ref.name}}} HTML-escapes the value (/ becomes &#x2F;, & becomes &amp;): write {{{${ref.name}}}}${kind === "url" || kind === "form" ? ` inside {{#urlencode}}` : ""}`);
      }
      if (ref.kind === "raw" && (kind === "url" || kind === "form") && !inHelper("urlencode") && !inHelper("basicauth") && !ESCAPE_SAFE.has(head) && !isInHost(ref, path, oauth2)) {
        add("unencoded-variable", "warning", path, `{{{${ref.name}}}} is not URL-encoded: a value with &, #, + or a space breaks the ${kind === "url" ? "URL" : "form body"}; wrap it in {{#urlencode}}…{{/urlencode}}`);
      }
    }
  };
  const authKnown = new Set<string>(AUTH_URL_VARIABLES);
  check(auth, "oauth2.authUrlTemplate", authKnown, "url");
  check(tokenUrl, "oauth2.accessTokenUrlTemplate", tokenVariables, "url");
  check(body, "oauth2.accessTokenBody", tokenVariables, bodyKind);
  check(headers, "oauth2.accessTokenHeaders", tokenVariables, "header");

  // Secrets that must never be in a URL.
  const names = (refs: TemplateReference[] | undefined) => new Set((refs ?? []).map((r) => r.name.split(".")[0]!));
  if (names(auth).has("client_secret")) add("secret-in-url", "error", "oauth2.authUrlTemplate", "client_secret in the authorize URL would show it to the user's browser (and the host does not even pass it there)");
  if (names(auth).has("code_verifier")) add("secret-in-url", "error", "oauth2.authUrlTemplate", "the PKCE code_verifier must go only to the token endpoint (RFC 7636 §4.5); send code_challenge in the authorize URL");
  if (names(tokenUrl).has("client_secret")) {
    add("secret-in-url", "error", "oauth2.accessTokenUrlTemplate", "client_secret in the token URL ends up in server and proxy logs (RFC 6749 §2.3.1: MUST NOT); send it in the body or a Basic authorization header");
  }

  // state (RFC 6749 §10.12).
  if (auth && !names(auth).has("state")) add("state-missing", "error", "oauth2.authUrlTemplate", "the authorize URL has no state: add &state={{#urlencode}}{{{ state }}}{{/urlencode}} so the redirect can be checked against CSRF (RFC 6749 §10.12)");

  // PKCE (RFC 7636).
  const tokenNames = new Set([...names(tokenUrl), ...names(body), ...names(headers)]);
  const authNames = names(auth);
  if (authNames.has("code_challenge") && !tokenNames.has("code_verifier")) {
    add("pkce-inconsistent", "error", "oauth2.accessTokenBody", "the authorize URL sends code_challenge but the token request never sends code_verifier, so the provider will refuse the code");
  }
  if (tokenNames.has("code_verifier") && auth && !authNames.has("code_challenge")) {
    add("pkce-inconsistent", "error", "oauth2.authUrlTemplate", "the token request sends code_verifier but the authorize URL sends no code_challenge");
  }
  if (auth && authNames.has("code_challenge")) {
    let method: string | null = null;
    try {
      const url = new URL(renderAuthUrl(oauth2, { clientId: "client", state: "state", redirectUri: "http://127.0.0.1/", codeChallenge: "challenge", config: {} }));
      method = url.searchParams.get("code_challenge_method");
    } catch {
      // The URL checks below report an unparseable URL.
    }
    if (method === null) add("pkce-inconsistent", "error", "oauth2.authUrlTemplate", "code_challenge without code_challenge_method: servers then assume \"plain\" and compare the verifier with the S256 challenge; add &code_challenge_method=S256");
    else if (method !== CODE_CHALLENGE_METHOD) add("pkce-inconsistent", "error", "oauth2.authUrlTemplate", `code_challenge_method is ${JSON.stringify(method)}, but the host always computes an S256 challenge`);
  }

  // redirect_uri must be repeated in the token request when it was in the authorization request.
  if (authNames.has("redirect_uri") && !tokenNames.has("redirect_uri")) {
    add("redirect-uri-missing", "warning", "oauth2.accessTokenBody", "the authorize URL sends redirect_uri but the token request does not; RFC 6749 §4.1.3 requires the same redirect_uri in both, and most providers enforce it");
  }

  if (oauth2.accessTokenMethod && oauth2.accessTokenMethod.toUpperCase() !== "POST") {
    add("method-ignored", "warning", "oauth2.accessTokenMethod", `the host always POSTs the token request; ${JSON.stringify(oauth2.accessTokenMethod)} is ignored`);
  }

  lintRefreshTemplates(oauth2, parse, check, add);

  // The rendered URLs must parse.
  for (const [template, path] of [
    [oauth2.authUrlTemplate, "oauth2.authUrlTemplate"],
    [oauth2.accessTokenUrlTemplate, "oauth2.accessTokenUrlTemplate"],
    [oauth2.refreshTokenUrlTemplate, "oauth2.refreshTokenUrlTemplate"],
  ] as const) {
    if (template === undefined || template === "") continue;
    try {
      new URL(renderTemplate(template, sampleView(schema), { label: path }));
    } catch (error) {
      if (error instanceof OAuthError) continue; // reported as template-syntax
      add("template-syntax", "error", path, `does not render to a valid URL with sample values`);
    }
  }
  lintTokenUrlHost(oauth2, schema, add);
}

/**
 * The refresh templates: flowcap's token source renders them, not the host, with its own
 * variables (REFRESH_URL_VARIABLES, REFRESH_REQUEST_VARIABLES) and a form body unless
 * `refreshTokenHeaders` says otherwise. Neither secret may be in the URL.
 */
function lintRefreshTemplates(oauth2: OAuth2, parse: Parse, check: Check, add: Add): void {
  const renderer = "flowcap's token source";
  const urlPath = "oauth2.refreshTokenUrlTemplate";
  const url = parse(oauth2.refreshTokenUrlTemplate, urlPath);
  const body = parse(oauth2.refreshTokenBody, "oauth2.refreshTokenBody");
  const headers = parse(oauth2.refreshTokenHeaders ? JSON.stringify(oauth2.refreshTokenHeaders) : "", "oauth2.refreshTokenHeaders");
  const contentType = Object.entries(oauth2.refreshTokenHeaders ?? {}).find(([k]) => k.toLowerCase() === "content-type")?.[1];
  const bodyKind = contentType === undefined || /x-www-form-urlencoded/i.test(String(contentType)) ? "form" : /json/i.test(String(contentType)) ? "json" : "other";

  // A secret in the URL is reported below as secret-in-url, not as a variable the URL lacks.
  const secret = (r: TemplateReference) => ["client_secret", "refresh_token"].includes(r.name.split(".")[0]!);
  check(url?.filter((r) => !secret(r)), urlPath, new Set(REFRESH_URL_VARIABLES), "url", renderer);
  check(body, "oauth2.refreshTokenBody", new Set(REFRESH_REQUEST_VARIABLES), bodyKind, renderer);
  check(headers, "oauth2.refreshTokenHeaders", new Set(REFRESH_REQUEST_VARIABLES), "header", renderer);

  const inUrl = new Set((url ?? []).map((r) => r.name.split(".")[0]!));
  if (inUrl.has("client_secret")) {
    add("secret-in-url", "error", urlPath, "client_secret in the refresh URL would end up in server and proxy logs (RFC 6749 §2.3.1: MUST NOT), and flowcap's token source never renders it there (it renders empty); send it in refreshTokenBody or a Basic authorization header in refreshTokenHeaders");
  }
  if (inUrl.has("refresh_token")) {
    add("secret-in-url", "error", urlPath, "the refresh token in the refresh URL would end up in server and proxy logs, and flowcap's token source never renders it there (it renders empty); send it in refreshTokenBody, as RFC 6749 §6 does");
  }

  if (!oauth2.refreshTokenBody) {
    for (const field of ["refreshTokenHeaders", "refreshTokenMethod"] as const) {
      if (oauth2[field] !== undefined && oauth2[field] !== "") {
        add("refresh-ignored", "warning", `oauth2.${field}`, `flowcap's token source uses ${field} only with a refreshTokenBody; without one it sends the standard refresh request (RFC 6749 §6)`);
      }
    }
  }
  const refreshMap = oauth2.refreshTokenResponseMap;
  if (refreshMap && Object.keys(refreshMap).length > 0) {
    for (const [key, spec] of Object.entries(refreshMap)) {
      if (typeof spec !== "string") add("response-map-invalid", "error", `oauth2.refreshTokenResponseMap.${key}`, `must be a string (a /pointer or a template), got ${JSON.stringify(spec)}`);
    }
    if (refreshMap.access_token === undefined) {
      add("refresh-map-no-token", "error", "oauth2.refreshTokenResponseMap", "maps no access_token: flowcap's token source reads the new access token from the mapped access_token (and a rotated refresh token from refresh_token), so every refresh would fail");
    }
  }
}

/**
 * True when a reference sits in the host part of a URL template, where URL-encoding would break
 * it (the token-url-host check covers what may go there). Mustache tags are skipped while looking
 * for the end of the host, since closing tags contain "/".
 */
function isInHost(ref: TemplateReference, path: string, oauth2: OAuth2): boolean {
  const urls: Record<string, string | undefined> = {
    "oauth2.authUrlTemplate": oauth2.authUrlTemplate,
    "oauth2.accessTokenUrlTemplate": oauth2.accessTokenUrlTemplate,
    "oauth2.refreshTokenUrlTemplate": oauth2.refreshTokenUrlTemplate,
  };
  const template = urls[path];
  if (template === undefined) return false;
  const schemeEnd = template.indexOf("://");
  if (schemeEnd < 0 || ref.offset < schemeEnd) return false;
  let i = schemeEnd + 3;
  while (i < template.length) {
    if (template.startsWith("{{", i)) {
      const close = template.indexOf("}}", i + 2);
      if (close < 0) break;
      i = close + (template.startsWith("}}}", close) ? 3 : 2);
    } else if ("/?#".includes(template[i]!)) break;
    else i++;
  }
  return ref.offset < i;
}

/** A view with a sample value for every variable, config values from the schema's examples or defaults. */
function sampleView(schema: Schema): Record<string, unknown> {
  return {
    state: "state",
    redirect_uri: "http://127.0.0.1:16963/",
    client_id: "client",
    client_secret: "secret",
    code: "code",
    code_verifier: "v".repeat(43),
    code_challenge: "challenge",
    code_challenge_method: CODE_CHALLENGE_METHOD,
    config: sampleConfig(schema),
  };
}

function sampleConfig(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  for (const [key, sub] of Object.entries(props)) {
    if (!isPlainObject(sub)) continue;
    if (sub.type === "string") out[key] = Array.isArray(sub.examples) && typeof sub.examples[0] === "string" ? sub.examples[0] : typeof sub.default === "string" && sub.default ? sub.default : "example";
    else if (sub.type === "boolean") out[key] = false;
    else if (sub.type === "integer" || sub.type === "number") out[key] = typeof sub.default === "number" ? sub.default : 1;
  }
  return out;
}

/**
 * The host validates the token URL before fetching it: a caller-supplied value (from the config or
 * the redirect) may fill a whole host label in front of a fixed domain (`{{{config.subdomain}}}.zendesk.com`),
 * but not part of a label (`api-{{{config.region}}}.example.com`), and may be the whole host only
 * for providers it allow-lists (Salesforce, under `.my.salesforce.com`).
 */
function lintTokenUrlHost(oauth2: OAuth2, schema: Schema, add: Add): void {
  const marker = "xflowcapmarkerx";
  const mark = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(mark);
    if (isPlainObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mark(x)]));
    return v ? marker : "";
  };
  let host: string;
  try {
    const view = sampleView(schema);
    host = new URL(renderTemplate(oauth2.accessTokenUrlTemplate, { ...view, config: mark(view.config) })).hostname;
  } catch {
    return; // reported elsewhere
  }
  if (!host.includes(marker)) return;
  const labels = host.split(".");
  const at = labels.indexOf(marker);
  const path = "oauth2.accessTokenUrlTemplate";
  if (at === -1) {
    add("token-url-host", "error", path, "a config value is placed inside a host label (like api-{{{config.region}}}.example.com); the host refuses such token URLs, so put the value in a label of its own");
    return;
  }
  const suffix = labels.slice(at + 1).join(".");
  if (suffix.includes(marker)) add("token-url-host", "error", path, "more than one config value in the token URL's host; the host refuses such URLs");
  else if (suffix === "" && oauth2.provider !== "salesforce") {
    add("token-url-host", "error", path, `the whole token URL host comes from the config; the host only allows that for providers it allow-lists (salesforce), not ${JSON.stringify(oauth2.provider)}`);
  }
}

function lintResponseMap(oauth2: OAuth2, add: Add): void {
  const map = oauth2.accessTokenResponseMap;
  const path = "oauth2.accessTokenResponseMap";
  if (!map || Object.keys(map).length === 0) {
    add("response-map-invalid", "error", path, "no accessTokenResponseMap: the host keeps only mapped keys, so nothing from the token response reaches the credentials");
    return;
  }
  for (const [key, value] of Object.entries(map)) {
    const here = `${path}.${key}`;
    if (typeof value !== "string") {
      add("response-map-invalid", "error", here, `must be a string (a /pointer or a template), not ${JSON.stringify(value)}: the host fails on it`);
      continue;
    }
    if (value.startsWith("/")) continue;
    let refs: TemplateReference[];
    try {
      refs = templateReferences(value, here);
    } catch (error) {
      add("template-syntax", "error", here, (error as OAuthError).message.replace(`${here}: `, ""));
      continue;
    }
    if (refs.length === 0 && /^[A-Za-z_][\w-]*(\/[\w-]+)*$/.test(value) && value !== key) {
      add("response-map-invalid", "warning", here, `${JSON.stringify(value)} is a literal, not a pointer; did you mean "/${value}"?`);
    }
    for (const ref of refs) {
      if (ref.kind === "escaped" && !ref.sections.includes("now_plus")) {
        add("escaped-variable", "warning", here, `{{${ref.name}}} HTML-escapes the provider's value; write {{{${ref.name}}}} (or the pointer "/${ref.name.replace(/\./g, "/")}")`);
      }
    }
  }
}

/** The `credentials` property: present and required. */
function lintCredentialsProperty(schema: Schema, add: Add): Located | undefined {
  const props = isPlainObject(schema.properties) ? schema.properties : {};
  const raw = props.credentials;
  if (!isPlainObject(raw)) {
    add("credentials-missing", "error", "configSchema.properties", "the config schema has no credentials property: Flow's UI and host put the OAuth tokens under credentials");
    return undefined;
  }
  const required = Array.isArray(schema.required) ? schema.required : [];
  if (!required.includes("credentials")) {
    add("credentials-not-required", "error", "configSchema.required", "credentials must be in the config schema's top-level required list (flowctl and Flow's UI rely on it)");
  }
  return resolve(schema, { node: raw, path: "configSchema.properties.credentials" });
}

function lintBranches(oauth2: OAuth2, root: Schema, credentials: Located, branches: Located[], add: Add): void {
  const all = alternatives(root, credentials);
  if (branches.length === 0) {
    add("credentials-no-provider", "error", credentials.path, `no credentials schema has "x-oauth2-provider": "${oauth2.provider}", so Flow's UI shows no OAuth sign-in button`);
    return;
  }
  // Several auth methods need a discriminator the UI can switch on.
  const discriminator = isPlainObject(credentials.node.discriminator) && typeof credentials.node.discriminator.propertyName === "string" ? credentials.node.discriminator.propertyName : undefined;
  if (all.length > 1) {
    if (!discriminator) {
      add("credentials-discriminator", "warning", credentials.path, 'several auth methods but no discriminator: add "discriminator": {"propertyName": "credentials_title"} and a const credentials_title in each');
    } else {
      for (const b of all) {
        const props = isPlainObject(b.node.properties) ? b.node.properties : {};
        const prop = props[discriminator];
        if (!isPlainObject(prop) || (prop.const === undefined && !Array.isArray(prop.enum))) {
          add("credentials-discriminator", "warning", b.path, `this auth method has no const ${discriminator}, which the discriminator needs`);
        }
      }
    }
  }

  const map = oauth2.accessTokenResponseMap ?? {};
  const mapped = new Set(Object.keys(map));
  for (const branch of branches) {
    const provider = branch.node["x-oauth2-provider"] ?? credentials.node["x-oauth2-provider"];
    if (provider !== oauth2.provider) {
      add("provider-mismatch", "warning", branch.path, `x-oauth2-provider is ${JSON.stringify(provider)} but oauth2.provider is ${JSON.stringify(oauth2.provider)}`);
    }
    const props = isPlainObject(branch.node.properties) ? branch.node.properties : {};
    const required = new Set(Array.isArray(branch.node.required) ? (branch.node.required as string[]) : []);
    const closed = branch.node.additionalProperties === false;

    for (const key of ["client_id", "client_secret"]) {
      const prop = props[key];
      if (!isPlainObject(prop)) {
        add("credentials-unfilled", closed ? "error" : "warning", `${branch.path}.properties`, `no ${key} property: Flow injects the connector's ${key} into credentials, and the connector needs it to refresh tokens`);
      } else if (!isSecret(prop)) {
        add("secret-not-marked", "error", `${branch.path}.properties.${key}`, `${key} must be marked "secret": true; Flow refuses to store an injected ${key} in plain text`);
      }
    }
    for (const [key, prop] of Object.entries(props)) {
      if (key === "client_id" || key === "client_secret") continue;
      if (isSensitiveName(key) && !isSecret(prop)) add("secret-not-marked", "error", `${branch.path}.properties.${key}`, `${key} holds a credential: mark it "secret": true so Flow encrypts it and logs redact it`);
    }
    for (const key of mapped) {
      if (!(key in props)) {
        add("response-map-unknown-key", closed ? "error" : "warning", `oauth2.accessTokenResponseMap.${key}`, `the credentials schema (${branch.path}) has no ${key} property${closed ? " and allows no others, so the config will not validate" : ""}`);
      }
    }
    const dropsRefresh = "refresh_token" in props && !mapped.has("refresh_token");
    if (dropsRefresh) {
      add(
        "refresh-token-dropped",
        "error",
        "oauth2.accessTokenResponseMap",
        `the credentials need refresh_token (${branch.path}) but the response map does not keep it: add "refresh_token": "/refresh_token"`,
      );
    }
    const filledBy = new Set([...mapped, "client_id", "client_secret", ...(discriminator ? [discriminator] : [])]);
    for (const key of required) {
      const prop = props[key];
      const hasDefault = isPlainObject(prop) && (prop.default !== undefined || prop.const !== undefined);
      if (!filledBy.has(key) && !hasDefault && !(key === "refresh_token" && dropsRefresh)) {
        add("credentials-unfilled", "error", `${branch.path}.required`, `${key} is required but neither the response map nor Flow fills it, so the OAuth sign-in yields an invalid config`);
      }
    }
  }
}

/** True when `config.<tokens>` names a property the schema declares (or could hold: open objects). */
function configPathExists(root: Schema, tokens: string[]): boolean {
  let nodes: Located[] = [{ node: root, path: "configSchema" }];
  for (const token of tokens) {
    const next: Located[] = [];
    for (const n of nodes) {
      for (const alt of expand(root, n)) {
        const props = isPlainObject(alt.node.properties) ? alt.node.properties : {};
        if (isPlainObject(props[token])) next.push(resolve(root, { node: props[token], path: `${alt.path}.properties.${token}` }));
        else if (isPlainObject(alt.node.additionalProperties) || (alt.node.additionalProperties === true && alt.node.properties === undefined)) return true;
      }
    }
    if (next.length === 0) return false;
    nodes = next;
  }
  return true;
}

/** A node with its `$ref`, `allOf`, `oneOf` and `anyOf` expanded into the schemas that may apply. */
function expand(root: Schema, located: Located): Located[] {
  const self = resolve(root, located);
  const out = [self];
  for (const key of ["allOf", "oneOf", "anyOf"] as const) {
    const list = self.node[key];
    if (Array.isArray(list)) list.filter(isPlainObject).forEach((sub, i) => out.push(...expand(root, { node: sub, path: `${self.path}.${key}[${i}]` })));
  }
  return out;
}
