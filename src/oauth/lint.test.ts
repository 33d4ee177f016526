import { describe, expect, it } from "vitest";
import { haveSharedFixtures } from "../../test/helpers/fixtures.js";
import { oauthFixtures } from "../../test/helpers/oauthFixtures.js";
import type { OAuth2 } from "../protocol/index.js";
import { lintOAuth, type OAuthLintFinding, type OAuthLintTarget } from "./lint.js";
import { oauth2Providers } from "./providers/presets.js";
import { accessTokenCredentialsSchema, credentialsSchema, defineOAuth2 } from "./spec.js";

/** A clean spec to break one rule at a time. */
function good(): { configSchema: Record<string, any>; oauth2: OAuth2 } {
  const auth = defineOAuth2({ provider: "acme", authorizeUrl: "https://acme.example/oauth/authorize", tokenUrl: "https://acme.example/oauth/token", scopes: ["read"] });
  return structuredClone({
    configSchema: {
      type: "object",
      properties: { credentials: credentialsSchema(auth.credentials, accessTokenCredentialsSchema()), subdomain: { type: "string" } },
      required: ["credentials"],
    },
    oauth2: auth.oauth2,
  }) as { configSchema: Record<string, any>; oauth2: OAuth2 };
}

const rules = (findings: OAuthLintFinding[]) => findings.map((f) => `${f.severity} ${f.rule} ${f.path}`);

describe("lintOAuth", () => {
  it("passes a spec built with defineOAuth2, and every preset", () => {
    expect(lintOAuth(good())).toEqual([]);
    for (const make of Object.values(oauth2Providers)) {
      const def = make({});
      const spec = { configSchema: { type: "object", properties: { credentials: credentialsSchema(def.credentials), is_sandbox: { type: "boolean" } }, required: ["credentials"] }, oauth2: def.oauth2 };
      expect(lintOAuth(spec), def.oauth2.provider).toEqual([]);
    }
    for (const credentials of ["rotating", "access_token"] as const) {
      const def = defineOAuth2({ provider: "acme", authorizeUrl: "https://a.example/auth", tokenUrl: "https://a.example/token", credentials });
      expect(lintOAuth({ configSchema: { type: "object", properties: { credentials: credentialsSchema(def.credentials) }, required: ["credentials"] }, oauth2: def.oauth2 }), credentials).toEqual([]);
    }
    const ms = oauth2Providers.microsoft({ tenant: { configKey: "tenant_id" }, scopes: ["User.Read"] });
    expect(lintOAuth({ configSchema: { type: "object", properties: { credentials: credentialsSchema(ms.credentials), tenant_id: { type: "string" } }, required: ["credentials"] }, oauth2: ms.oauth2 })).toEqual([]);
  });

  it("has nothing to say about a spec without OAuth", () => {
    expect(lintOAuth({ configSchema: { type: "object", properties: { token: { type: "string" } } } })).toEqual([]);
  });

  it("flags a client secret in a URL (RFC 6749 §2.3.1)", () => {
    const s = good();
    s.oauth2.accessTokenUrlTemplate += "?client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}";
    expect(rules(lintOAuth(s))).toEqual(["error secret-in-url oauth2.accessTokenUrlTemplate"]);
    const t = good();
    t.oauth2.authUrlTemplate += "&v={{#urlencode}}{{{ code_verifier }}}{{/urlencode}}";
    expect(rules(lintOAuth(t))).toContain("error secret-in-url oauth2.authUrlTemplate");
  });

  it("flags {{x}} where escaping corrupts the value, by how likely it is", () => {
    const s = good();
    s.oauth2.accessTokenBody = s.oauth2.accessTokenBody!.replace("{{{ redirect_uri }}}", "{{ redirect_uri }}");
    s.oauth2.authUrlTemplate += "&sub={{#urlencode}}{{ config.subdomain }}{{/urlencode}}&s2={{ state }}";
    expect(lintOAuth(s)).toEqual([
      expect.objectContaining({ severity: "warning", rule: "escaped-variable", path: "oauth2.authUrlTemplate", message: expect.stringContaining("{{config.subdomain}} HTML-escapes the value") }),
      {
        severity: "error",
        rule: "escaped-variable",
        path: "oauth2.accessTokenBody",
        message: "{{redirect_uri}} HTML-escapes the value (/ becomes &#x2F;, & becomes &amp;): write {{{redirect_uri}}} inside {{#urlencode}}",
      },
    ]);
  });

  it("flags raw values that are not URL-encoded in URLs and forms, but not in the host", () => {
    const s = good();
    s.oauth2.authUrlTemplate = s.oauth2.authUrlTemplate.replace("client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}", "client_id={{{ client_id }}}");
    s.oauth2.accessTokenUrlTemplate = "https://{{{ config.subdomain }}}.acme.example/oauth/token";
    expect(rules(lintOAuth(s))).toEqual(["warning unencoded-variable oauth2.authUrlTemplate"]);
  });

  it("flags variables the host does not pass to a template, and config properties the schema lacks", () => {
    const s = good();
    s.oauth2.authUrlTemplate += "&x={{#urlencode}}{{{ code }}}{{/urlencode}}&y={{#urlencode}}{{{ config.region }}}{{/urlencode}}";
    s.oauth2.accessTokenBody += "&shop={{#urlencode}}{{{ shop }}}{{/urlencode}}&s={{#urlencode}}{{{ state }}}{{/urlencode}}";
    expect(lintOAuth(s).map((f) => [f.rule, f.path, f.message.split(",")[0]])).toEqual([
      ["unknown-variable", "oauth2.authUrlTemplate", '{{code}}: the host does not pass "code" to this template'],
      ["unknown-config-property", "oauth2.authUrlTemplate", "{{config.region}}: the endpoint config schema has no region"],
      ["unknown-variable", "oauth2.accessTokenBody", '{{shop}}: the host does not pass "shop" to this template'],
      ["unknown-variable", "oauth2.accessTokenBody", '{{state}}: the host does not pass "state" to this template'],
    ]);
    // A provider's extra redirect parameters are declared, not guessed.
    expect(rules(lintOAuth(s, { extraTokenVariables: ["shop", "state"] }))).toEqual(["error unknown-variable oauth2.authUrlTemplate", "warning unknown-config-property oauth2.authUrlTemplate"]);
  });

  it("flags an authorize URL without state", () => {
    const s = good();
    s.oauth2.authUrlTemplate = s.oauth2.authUrlTemplate.replace("&state={{#urlencode}}{{{ state }}}{{/urlencode}}", "");
    expect(rules(lintOAuth(s))).toEqual(["error state-missing oauth2.authUrlTemplate"]);
  });

  it("flags PKCE used on one side only, or without S256", () => {
    const noVerifier = good();
    noVerifier.oauth2.accessTokenBody = noVerifier.oauth2.accessTokenBody!.replace("&code_verifier={{#urlencode}}{{{ code_verifier }}}{{/urlencode}}", "");
    expect(rules(lintOAuth(noVerifier))).toEqual(["error pkce-inconsistent oauth2.accessTokenBody"]);

    const noChallenge = good();
    noChallenge.oauth2.authUrlTemplate = noChallenge.oauth2.authUrlTemplate.replace("&code_challenge={{#urlencode}}{{{ code_challenge }}}{{/urlencode}}&code_challenge_method=S256", "");
    expect(rules(lintOAuth(noChallenge))).toEqual(["error pkce-inconsistent oauth2.authUrlTemplate"]);

    const plain = good();
    plain.oauth2.authUrlTemplate = plain.oauth2.authUrlTemplate.replace("code_challenge_method=S256", "code_challenge_method=plain");
    expect(lintOAuth(plain)).toEqual([expect.objectContaining({ rule: "pkce-inconsistent", message: 'code_challenge_method is "plain", but the host always computes an S256 challenge' })]);

    const missing = good();
    missing.oauth2.authUrlTemplate = missing.oauth2.authUrlTemplate.replace("&code_challenge_method=S256", "");
    expect(lintOAuth(missing)[0]!.message).toMatch(/servers then assume "plain"/);
  });

  it("flags a missing, unrequired or provider-less credentials property", () => {
    const missing = good();
    delete missing.configSchema.properties.credentials;
    expect(rules(lintOAuth(missing))).toEqual(["error credentials-missing configSchema.properties"]);

    const optional = good();
    optional.configSchema.required = [];
    expect(rules(lintOAuth(optional))).toEqual(["error credentials-not-required configSchema.required"]);

    const noButton = good();
    delete noButton.configSchema.properties.credentials.oneOf[0]["x-oauth2-provider"];
    expect(rules(lintOAuth(noButton))).toEqual(["error credentials-no-provider configSchema.properties.credentials"]);

    const other = good();
    other.configSchema.properties.credentials.oneOf[0]["x-oauth2-provider"] = "acme-old";
    expect(rules(lintOAuth(other))).toEqual(["warning provider-mismatch configSchema.properties.credentials.oneOf[0]"]);
  });

  it("flags secrets not marked secret", () => {
    const s = good();
    const props = s.configSchema.properties.credentials.oneOf[0].properties;
    delete props.client_secret.secret;
    props.refresh_token = { type: "string", airbyte_secret: false };
    expect(rules(lintOAuth(s))).toEqual([
      "error secret-not-marked configSchema.properties.credentials.oneOf[0].properties.client_secret",
      "error secret-not-marked configSchema.properties.credentials.oneOf[0].properties.refresh_token",
    ]);
    // airbyte_secret counts (Airbyte-shim specs use it).
    props.client_secret.airbyte_secret = true;
    props.refresh_token.airbyte_secret = true;
    expect(lintOAuth(s)).toEqual([]);
  });

  it("flags a response map that drops refresh_token while the credentials need it", () => {
    const s = good();
    s.oauth2.accessTokenResponseMap = { access_token: "/access_token" };
    expect(rules(lintOAuth(s))).toEqual(["warning response-map-unknown-key oauth2.accessTokenResponseMap.access_token", "error refresh-token-dropped oauth2.accessTokenResponseMap"]);
  });

  it("flags response maps the host cannot apply", () => {
    const s = good();
    s.oauth2.accessTokenResponseMap = { refresh_token: "/refresh_token", bad: true as unknown as string, literal: "refresh_token", escaped: "{{ access_token }}" };
    expect(rules(lintOAuth(s))).toEqual([
      "error response-map-invalid oauth2.accessTokenResponseMap.bad",
      "warning response-map-invalid oauth2.accessTokenResponseMap.literal",
      "warning escaped-variable oauth2.accessTokenResponseMap.escaped",
      "warning response-map-unknown-key oauth2.accessTokenResponseMap.bad",
      "warning response-map-unknown-key oauth2.accessTokenResponseMap.literal",
      "warning response-map-unknown-key oauth2.accessTokenResponseMap.escaped",
    ]);
    const empty = good();
    empty.oauth2.accessTokenResponseMap = {};
    expect(rules(lintOAuth(empty))).toContain("error response-map-invalid oauth2.accessTokenResponseMap");
  });

  it("flags required credentials nothing fills, and keys a closed schema rejects", () => {
    const s = good();
    const branch = s.configSchema.properties.credentials.oneOf[0];
    branch.properties.account_id = { type: "string" };
    branch.required.push("account_id");
    branch.additionalProperties = false;
    s.oauth2.accessTokenResponseMap = { refresh_token: "/refresh_token", scope: "/scope" };
    expect(rules(lintOAuth(s))).toEqual(["error response-map-unknown-key oauth2.accessTokenResponseMap.scope", "error credentials-unfilled configSchema.properties.credentials.oneOf[0].required"]);
  });

  it("flags several auth methods without a usable discriminator", () => {
    const s = good();
    delete s.configSchema.properties.credentials.discriminator;
    expect(rules(lintOAuth(s))).toEqual(["warning credentials-discriminator configSchema.properties.credentials"]);
  });

  it("flags a token URL host the Flow host refuses, and a method it ignores", () => {
    const s = good();
    s.oauth2.accessTokenUrlTemplate = "https://api-{{{ config.subdomain }}}.acme.example/token";
    s.oauth2.accessTokenMethod = "PUT";
    expect(rules(lintOAuth(s))).toEqual(["warning method-ignored oauth2.accessTokenMethod", "error token-url-host oauth2.accessTokenUrlTemplate"]);
    const whole = good();
    whole.oauth2.accessTokenUrlTemplate = "https://{{{ config.subdomain }}}/token";
    expect(lintOAuth(whole)[0]!.message).toMatch(/only allows that for providers it allow-lists \(salesforce\), not "acme"/);
  });

  it("lints the refresh templates with the variables flowcap's token source passes them", () => {
    const s = good();
    s.oauth2.refreshTokenUrlTemplate = "https://{{{ config.subdomain }}}.acme.example/oauth/refresh?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}";
    s.oauth2.refreshTokenBody = "grant_type=refresh_token&refresh_token={{#urlencode}}{{{ refresh_token }}}{{/urlencode}}";
    s.oauth2.refreshTokenHeaders = { authorization: "Basic {{#basicauth}}{{{ client_id }}}:{{{ client_secret }}}{{/basicauth}}" };
    expect(lintOAuth(s)).toEqual([]);
    // The host's token-request variables are not among them.
    s.oauth2.refreshTokenUrlTemplate += "&code={{#urlencode}}{{{ code }}}{{/urlencode}}";
    s.oauth2.refreshTokenBody += "&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}";
    expect(lintOAuth(s).map((f) => [f.severity, f.rule, f.path, f.message])).toEqual([
      ["error", "unknown-variable", "oauth2.refreshTokenUrlTemplate", `{{code}}: flowcap's token source does not pass "code" to this template, so it renders empty (it has: client_id, config)`],
      [
        "error",
        "unknown-variable",
        "oauth2.refreshTokenBody",
        `{{redirect_uri}}: flowcap's token source does not pass "redirect_uri" to this template, so it renders empty (it has: client_id, client_secret, refresh_token, config)`,
      ],
    ]);
    // Nor are the injected values the host passes to the token templates.
    expect(rules(lintOAuth(s, { extraTokenVariables: ["code", "redirect_uri"] }))).toEqual(["error unknown-variable oauth2.refreshTokenUrlTemplate", "error unknown-variable oauth2.refreshTokenBody"]);
  });

  it("flags a client secret or refresh token in the refresh URL", () => {
    const s = good();
    s.oauth2.refreshTokenUrlTemplate = "https://acme.example/oauth/refresh?client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}&refresh_token={{ refresh_token }}";
    expect(lintOAuth(s)).toEqual([
      {
        severity: "error",
        rule: "secret-in-url",
        path: "oauth2.refreshTokenUrlTemplate",
        message:
          "client_secret in the refresh URL would end up in server and proxy logs (RFC 6749 §2.3.1: MUST NOT), and flowcap's token source never renders it there (it renders empty); send it in refreshTokenBody or a Basic authorization header in refreshTokenHeaders",
      },
      {
        severity: "error",
        rule: "secret-in-url",
        path: "oauth2.refreshTokenUrlTemplate",
        message: "the refresh token in the refresh URL would end up in server and proxy logs, and flowcap's token source never renders it there (it renders empty); send it in refreshTokenBody, as RFC 6749 §6 does",
      },
    ]);
  });

  it("flags escaping and encoding in the refresh templates, taking the body as a form unless the headers say JSON", () => {
    const s = good();
    s.oauth2.refreshTokenBody = "grant_type=refresh_token&refresh_token={{ refresh_token }}&client_id={{{ client_id }}}";
    s.oauth2.refreshTokenHeaders = { authorization: "Bearer {{ client_secret }}" };
    expect(lintOAuth(s).map((f) => `${f.severity} ${f.rule} ${f.path} ${f.message.split(" ")[0]}`)).toEqual([
      "error escaped-variable oauth2.refreshTokenBody {{refresh_token}}",
      "warning unencoded-variable oauth2.refreshTokenBody {{{client_id}}}",
      "error escaped-variable oauth2.refreshTokenHeaders {{client_secret}}",
    ]);
    const json = good();
    json.oauth2.refreshTokenBody = '{"grant_type": "refresh_token", "refresh_token": "{{{ refresh_token }}}", "client_id": "{{{ client_id }}}"}';
    json.oauth2.refreshTokenHeaders = { "Content-Type": "application/json" };
    expect(lintOAuth(json)).toEqual([]);
  });

  it("flags a refresh URL that does not parse or render, and refresh fields the token source ignores", () => {
    const s = good();
    s.oauth2.refreshTokenUrlTemplate = "{{#urlencode}}{{{ config.subdomain }}}{{/urlencode}}/oauth/refresh";
    s.oauth2.refreshTokenMethod = "PUT";
    s.oauth2.refreshTokenHeaders = { "x-client": "{{{ client_id }}}" };
    s.oauth2.refreshTokenResponseMap = { access_token: "/access_token" };
    expect(rules(lintOAuth(s))).toEqual([
      "warning refresh-ignored oauth2.refreshTokenHeaders",
      "warning refresh-ignored oauth2.refreshTokenMethod",
      "error template-syntax oauth2.refreshTokenUrlTemplate",
    ]);
    const noToken = good();
    noToken.oauth2.refreshTokenResponseMap = { refresh_token: "/data/refresh_token", expires_in: 3600 };
    expect(rules(lintOAuth(noToken))).toEqual(["error response-map-invalid oauth2.refreshTokenResponseMap.expires_in", "error refresh-map-no-token oauth2.refreshTokenResponseMap"]);
    const broken = good();
    broken.oauth2.refreshTokenBody = "refresh_token={{#urlencode}}{{{ refresh_token }}}";
    expect(rules(lintOAuth(broken))).toEqual(["error template-syntax oauth2.refreshTokenBody"]);
  });

  it("reports a template that does not parse, once", () => {
    const s = good();
    s.oauth2.authUrlTemplate += "{{#urlencode}}";
    expect(rules(lintOAuth(s))).toEqual(["error template-syntax oauth2.authUrlTemplate"]);
  });
});

describe.skipIf(!haveSharedFixtures)("lintOAuth on real connectors' specs", () => {
  const fixtures = oauthFixtures().filter((f) => f.configSchema);
  const lint = (file: string) => {
    const f = fixtures.find((x) => x.file === file)!;
    return rules(lintOAuth({ configSchema: f.configSchema, oauth2: f.oauth2 } as OAuthLintTarget));
  };

  it("passes Estuary's native HubSpot, Google Sheets, Salesforce and Mailchimp specs", () => {
    expect(lint("native/source-hubspot-native/snapshots__spec__stdout.json")).toEqual([]);
    expect(lint("native-spec-snapshots/source-google-sheets-native.spec.json")).toEqual([]);
    expect(lint("native-spec-snapshots/source-salesforce-native.spec.json")).toEqual([]);
    expect(lint("native-spec-snapshots/source-mailchimp-native.spec.json")).toEqual([]);
  });

  it("finds the client secret in Asana's token URL", () => {
    expect(lint("shim/source-asana/snapshots__spec__capture.stdout.json")).toEqual([
      "warning unencoded-variable oauth2.authUrlTemplate",
      "warning unencoded-variable oauth2.accessTokenUrlTemplate",
      "warning unencoded-variable oauth2.accessTokenUrlTemplate",
      "error secret-in-url oauth2.accessTokenUrlTemplate",
      "warning response-map-unknown-key oauth2.accessTokenResponseMap.access_token",
    ]);
  });

  it("finds LinkedIn Pages' optional credentials with no OAuth button and its secret in the URL", () => {
    expect(lint("native-spec-snapshots/source-linkedin-pages.spec.json")).toEqual([
      "error credentials-not-required configSchema.required",
      "warning unencoded-variable oauth2.authUrlTemplate",
      "warning unencoded-variable oauth2.accessTokenUrlTemplate",
      "warning unencoded-variable oauth2.accessTokenUrlTemplate",
      "error secret-in-url oauth2.accessTokenUrlTemplate",
      "error credentials-no-provider configSchema.properties.credentials",
    ]);
  });

  it("finds that the Airtable specs declare OAuth but offer no OAuth credentials", () => {
    expect(lint("native-spec-snapshots/source-airtable-native.spec.json")).toEqual(["error credentials-no-provider configSchema.properties.credentials"]);
    expect(lint("shim/source-airtable/snapshots__spec__capture.stdout.json")).toEqual(["error credentials-no-provider configSchema.properties.credentials"]);
  });

  it("lints every spec fixture without throwing", () => {
    for (const f of fixtures) expect(() => lintOAuth({ configSchema: f.configSchema, oauth2: f.oauth2 })).not.toThrow();
    expect(fixtures.length).toBe(15);
  });

  describe("waivers in the spec (x-flowcap-lint-waivers)", () => {
    // Facebook's token endpoint, as Estuary's airbyte-to-flow patch set declares it.
    const oauth2 = {
      provider: "facebook",
      authUrlTemplate: "https://www.facebook.com/v15.0/dialog/oauth?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&state={{#urlencode}}{{{ state }}}{{/urlencode}}",
      accessTokenUrlTemplate: "https://graph.facebook.com/v15.0/oauth/access_token?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}&code={{#urlencode}}{{{ code }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}",
      accessTokenResponseMap: { access_token: "/access_token" },
    } as OAuth2;
    const credentials = {
      type: "object",
      "x-oauth2-provider": "facebook",
      properties: { client_id: { type: "string", secret: true }, client_secret: { type: "string", secret: true }, access_token: { type: "string", secret: true } },
      required: ["access_token"],
    };
    const spec = (waivers?: unknown) => ({ oauth2, configSchema: { type: "object", properties: { credentials }, required: ["credentials"], ...(waivers === undefined ? {} : { "x-flowcap-lint-waivers": waivers }) } });
    const reason = "graph.facebook.com's token endpoint takes the client secret as a query parameter";

    it("a waived finding is reported as waived, with its reason and former severity, and is no error", () => {
      expect(lintOAuth(spec()).map((f) => [f.rule, f.severity])).toEqual([["secret-in-url", "error"]]);
      const findings = lintOAuth(spec([{ rule: "secret-in-url", path: "oauth2.accessTokenUrlTemplate", reason }]));
      expect(findings).toEqual([
        expect.objectContaining({ rule: "secret-in-url", severity: "waived", path: "oauth2.accessTokenUrlTemplate", waiver: { severity: "error", reason } }),
      ]);
      // Without a path, the rule is waived wherever it is found.
      expect(lintOAuth(spec([{ rule: "secret-in-url", reason }])).map((f) => f.severity)).toEqual(["waived"]);
    });

    it("a waiver without a reason or a known rule is an error; one that matches nothing is a warning", () => {
      expect(lintOAuth(spec([{ rule: "secret-in-url" }])).map((f) => [f.rule, f.severity])).toEqual([["secret-in-url", "error"], ["waiver-invalid", "error"]]);
      expect(lintOAuth(spec([{ rule: "no-such-rule", reason }])).map((f) => f.rule)).toEqual(["secret-in-url", "waiver-invalid"]);
      expect(lintOAuth(spec({ rule: "secret-in-url", reason })).map((f) => f.rule)).toEqual(["secret-in-url", "waiver-invalid"]);
      const unused = lintOAuth(spec([{ rule: "secret-in-url", reason }, { rule: "state-missing", reason }]));
      expect(unused.map((f) => [f.rule, f.severity])).toEqual([["secret-in-url", "waived"], ["waiver-unused", "warning"]]);
      expect(unused[1]!.path).toBe("configSchema.x-flowcap-lint-waivers[1]");
    });
  });
});
