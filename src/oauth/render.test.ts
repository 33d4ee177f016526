import Mustache from "mustache";
import { describe, expect, it } from "vitest";
import { haveSharedFixtures } from "../../test/helpers/fixtures.js";
import { oauthFixtures } from "../../test/helpers/oauthFixtures.js";
import type { OAuth2 } from "../protocol/index.js";
import {
  applyResponseMap,
  FLOWCTL_REDIRECT_URI,
  HOST_DEFAULT_REDIRECT_URI,
  renderAuthUrl,
  renderTemplate,
  renderTokenRequest,
  templateReferences,
} from "./render.js";

const NOW = new Date("2024-01-01T00:00:00.000Z");
const now = () => NOW;

describe("renderTemplate: Mustache as the host runs it", () => {
  it("HTML-escapes {{x}} and leaves {{{x}}} and {{& x}} raw", () => {
    const x = "a/b&c<d>\"e'f=g`h";
    expect(renderTemplate("{{x}}|{{{x}}}|{{& x}}", { x })).toBe("a&#x2F;b&amp;c&lt;d&gt;&quot;e&#39;f&#x3D;g&#x60;h|" + x + "|" + x);
  });

  it("urlencodes the rendered body of the section, escaping included", () => {
    expect(renderTemplate("{{#urlencode}}{{{ v }}}{{/urlencode}}", { v: "http://localhost:16963/?a=b c" })).toBe("http%3A%2F%2Flocalhost%3A16963%2F%3Fa%3Db%20c");
    // {{v}} inside urlencode is escaped first, then encoded: the corruption lint warns about.
    expect(renderTemplate("{{#urlencode}}{{ v }}{{/urlencode}}", { v: "a/b" })).toBe("a%26%23x2F%3Bb");
  });

  it("basicauth base64-encodes the rendered body, Latin-1 only like btoa", () => {
    expect(renderTemplate("Basic {{#basicauth}}{{{ client_id }}}:{{{client_secret }}}{{/basicauth}}", { client_id: "id", client_secret: "sec ret" })).toBe(
      "Basic " + Buffer.from("id:sec ret").toString("base64"),
    );
    expect(() => renderTemplate("{{#basicauth}}{{{ x }}}{{/basicauth}}", { x: "snow☃" })).toThrow(expect.objectContaining({ code: "OAUTH_TEMPLATE" }));
  });

  it("now_plus adds parseInt(body) seconds to now", () => {
    expect(renderTemplate("{{#now_plus}}{{ expires_in }}{{/now_plus}}", { expires_in: 3600 }, { now })).toBe("2024-01-01T01:00:00.000Z");
    expect(renderTemplate("{{#now_plus}}{{ expires_in }}{{/now_plus}}", { expires_in: "59.9s" }, { now })).toBe("2024-01-01T00:00:59.000Z");
    expect(() => renderTemplate("{{#now_plus}}{{ expires_in }}{{/now_plus}}", {}, { now, label: "map.x" })).toThrow(/^map\.x: now_plus needs a number of seconds, got ""$/);
  });

  it("supports sections, inverted sections and dotted names", () => {
    const t = "https://{{#config.my_domain}}{{{config.my_domain}}}{{/config.my_domain}}{{^config.my_domain}}{{#config.is_sandbox}}test{{/config.is_sandbox}}{{^config.is_sandbox}}login{{/config.is_sandbox}}.salesforce.com{{/config.my_domain}}/x";
    expect(renderTemplate(t, { config: {} })).toBe("https://login.salesforce.com/x");
    expect(renderTemplate(t, { config: { is_sandbox: true } })).toBe("https://test.salesforce.com/x");
    expect(renderTemplate(t, { config: { my_domain: "acme.my.salesforce.com", is_sandbox: true } })).toBe("https://acme.my.salesforce.com/x");
  });

  it("is not affected by a caller changing Mustache's global escape", () => {
    const saved = Mustache.escape;
    Mustache.escape = (v: unknown) => String(v);
    try {
      expect(renderTemplate("{{x}}", { x: "a/b" })).toBe("a&#x2F;b");
    } finally {
      Mustache.escape = saved;
    }
  });

  it("reports an unclosed section with the template's name", () => {
    expect(() => renderTemplate("{{#urlencode}}x", {}, { label: "oauth2.authUrlTemplate" })).toThrow(/^oauth2\.authUrlTemplate: the template does not render: Unclosed section "urlencode"/);
  });
});

const airtable: OAuth2 = {
  provider: "airtable",
  authUrlTemplate:
    "https://airtable.com/oauth2/v1/authorize?client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&response_type=code&state={{#urlencode}}{{{ state }}}{{/urlencode}}&scope=data.records:read%20data.recordComments:read%20schema.bases:read&code_challenge={{#urlencode}}{{{ code_challenge }}}{{/urlencode}}&code_challenge_method={{{ code_challenge_method }}}",
  accessTokenUrlTemplate: "https://airtable.com/oauth2/v1/token",
  accessTokenBody:
    "grant_type=authorization_code&client_id={{#urlencode}}{{{ client_id }}}{{/urlencode}}&client_secret={{#urlencode}}{{{ client_secret }}}{{/urlencode}}&redirect_uri={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}&code={{#urlencode}}{{{ code }}}{{/urlencode}}&code_verifier={{#urlencode}}{{{ code_verifier }}}{{/urlencode}}",
  accessTokenHeaders: {
    "content-type": "application/x-www-form-urlencoded",
    authorization: "Basic {{#basicauth}}{{{ client_id }}}:{{{client_secret }}}{{/basicauth}}",
  },
  accessTokenResponseMap: { refresh_token: "/refresh_token", access_token: "/access_token", token_expiry_date: "{{#now_plus}}{{ expires_in }}{{/now_plus}}" },
};

describe("the host's requests", () => {
  it("renders the authorize URL with state, PKCE and the redirect URI", () => {
    const url = renderAuthUrl(airtable, { clientId: "my id", state: "S1", redirectUri: FLOWCTL_REDIRECT_URI, codeChallenge: "ch_-1" });
    expect(url).toBe(
      "https://airtable.com/oauth2/v1/authorize?client_id=my%20id&redirect_uri=http%3A%2F%2Flocalhost%3A16963%2F&response_type=code&state=S1&scope=data.records:read%20data.recordComments:read%20schema.bases:read&code_challenge=ch_-1&code_challenge_method=S256",
    );
    expect(renderAuthUrl(airtable, { clientId: "c", state: "S" })).toContain("redirect_uri=" + encodeURIComponent(HOST_DEFAULT_REDIRECT_URI));
  });

  it("renders the token request: URL, form body, Basic header, and the host's default headers", () => {
    const req = renderTokenRequest(airtable, { clientId: "cid", clientSecret: "s/e+c", redirectUri: FLOWCTL_REDIRECT_URI, codeVerifier: "v".repeat(43), params: { code: "c/1" } });
    expect(req).toEqual({
      method: "POST",
      url: "https://airtable.com/oauth2/v1/token",
      headers: {
        accept: "application/json",
        "content-type": "application/x-www-form-urlencoded",
        authorization: "Basic " + Buffer.from("cid:s/e+c").toString("base64"),
      },
      body: `grant_type=authorization_code&client_id=cid&client_secret=s%2Fe%2Bc&redirect_uri=http%3A%2F%2Flocalhost%3A16963%2F&code=c%2F1&code_verifier=${"v".repeat(43)}`,
    });
  });

  it("defaults content-type to JSON only when no content type is templated, and keeps the template's own header names", () => {
    const github: OAuth2 = {
      provider: "github",
      authUrlTemplate: "https://github.com/login/oauth/authorize",
      accessTokenUrlTemplate: "https://github.com/login/oauth/access_token",
      accessTokenBody: '{"code": "{{{ code }}}"}',
      accessTokenHeaders: { Accept: "application/json" },
    };
    expect(renderTokenRequest(github, { clientId: "c", clientSecret: "s", params: { code: "x" } }).headers).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      Accept: "application/json",
    });
    const upper = { ...github, accessTokenHeaders: { "Content-Type": "text/plain" } };
    expect(renderTokenRequest(upper, { clientId: "c", clientSecret: "s" }).headers).toEqual({ accept: "application/json", "Content-Type": "text/plain" });
  });

  it("omits the body when accessTokenBody is empty, and gives body and headers the raw redirect_uri", () => {
    const spec: OAuth2 = {
      provider: "p",
      authUrlTemplate: "https://p/auth",
      accessTokenUrlTemplate: "https://p/token?r={{#urlencode}}{{{ redirect_uri }}}{{/urlencode}}",
      accessTokenBody: "",
      accessTokenHeaders: { "x-r": "[{{{ redirect_uri }}}]" },
    };
    const req = renderTokenRequest(spec, { clientId: "c", clientSecret: "s" });
    expect(req.body).toBeNull();
    expect(req.url).toBe("https://p/token?r=" + encodeURIComponent(HOST_DEFAULT_REDIRECT_URI));
    expect(req.headers["x-r"]).toBe("[]");
  });

  it("lets injected values and redirect parameters through, parameters last", () => {
    const spec: OAuth2 = {
      provider: "p",
      authUrlTemplate: "https://p/auth",
      accessTokenUrlTemplate: "https://{{{ shop }}}/token",
      accessTokenBody: "dev={{{ developer_token }}}&code={{{ code }}}",
      accessTokenHeaders: { "content-type": "application/x-www-form-urlencoded" },
    };
    const req = renderTokenRequest(spec, { clientId: "c", clientSecret: "s", injectedValues: { developer_token: "D", shop: "wrong" }, params: { code: "K", shop: "acme.example.com" } });
    expect(req.url).toBe("https://acme.example.com/token");
    expect(req.body).toBe("dev=D&code=K");
  });

  it("turns non-string header values into strings as fetch does (Flow's wire golden)", () => {
    const spec = { accessTokenUrlTemplate: "https://access-token", accessTokenBody: "foo", accessTokenHeaders: { "hdr-one": { hello: "hdr" }, "hdr-two": 42.5 } };
    expect(renderTokenRequest(spec, { clientId: "c", clientSecret: "s" }).headers).toEqual({
      accept: "application/json",
      "content-type": "application/json",
      "hdr-one": "[object Object]",
      "hdr-two": "42.5",
    });
  });

  it("fails, as the host does, when a raw value breaks the headers' JSON", () => {
    const spec = { accessTokenUrlTemplate: "https://t", accessTokenHeaders: { authorization: "Bearer {{{ client_secret }}}" } };
    expect(() => renderTokenRequest(spec, { clientId: "c", clientSecret: 'has"quote' })).toThrow(/oauth2\.accessTokenHeaders: the rendered headers are not valid JSON/);
  });

  it("applies the response map: pointers, templates, only mapped keys, missing pointers dropped", () => {
    const response = { access_token: "AT", refresh_token: "RT", expires_in: 7200, data: { access_token: "nested" }, extra: "dropped" };
    expect(
      applyResponseMap(
        { access_token: "/access_token", nested: "/data/access_token", expires_at: "{{#now_plus}}{{ expires_in }}{{/now_plus}}", missing: "/nope", literal: "OAuth Credentials" },
        response,
        { now },
      ),
    ).toEqual({ access_token: "AT", nested: "nested", expires_at: "2024-01-01T02:00:00.000Z", literal: "OAuth Credentials" });
    expect(() => applyResponseMap({ foo: true }, response)).toThrow(/accessTokenResponseMap\.foo: must be a string/);
  });
});

describe("templateReferences", () => {
  it("lists names with their kind and enclosing sections", () => {
    expect(templateReferences("a{{#urlencode}}{{{ x.y }}}{{/urlencode}}{{z}}{{^q}}{{& w}}{{/q}}")).toEqual([
      { name: "urlencode", kind: "section", sections: [], offset: 1 },
      { name: "x.y", kind: "raw", sections: ["urlencode"], offset: 15 },
      { name: "z", kind: "escaped", sections: [], offset: 40 },
      { name: "q", kind: "inverted", sections: [], offset: 45 },
      { name: "w", kind: "raw", sections: ["q"], offset: 51 },
    ]);
    expect(() => templateReferences("{{#a}}", "t")).toThrow(/^t: the template does not parse/);
  });
});

// Sample values made of characters no encoding changes, so each can be found in the output.
const SAMPLE = {
  clientId: "CLIENTID-123",
  clientSecret: "CLIENTSECRET-456",
  redirectUri: FLOWCTL_REDIRECT_URI,
  state: "STATEabcdefghijklmnopqrstuvwxyz0123456789",
  code: "AUTHCODE-789",
  codeVerifier: "VERIFIER".padEnd(43, "x"),
  codeChallenge: "CHALLENGE_abc-def",
  config: { subdomain: "acme", tenant_id: "tenant-1", is_sandbox: false, my_domain: "" } as Record<string, unknown>,
};

const fixtures = oauthFixtures();

describe.skipIf(!haveSharedFixtures)("renderer parity over every oauth2 block in ../shared/fixtures/flow", () => {
  it("finds them all", () => {
    // 12 airbyte-to-flow templates, 9 patch sets, 8 native and 6 shim spec snapshots, 2 wire goldens.
    expect(fixtures.length).toBe(37);
  });

  it.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, { oauth2 }) => {
    for (const values of [SAMPLE, NASTY]) checkFixture(oauth2, values);
  });

  it("renders Salesforce's section logic for each config", () => {
    const sf = fixtures.find((f) => f.file === "native-spec-snapshots/source-salesforce-native.spec.json")!.oauth2;
    const host = (config: Record<string, unknown>) => new URL(renderAuthUrl(sf, { clientId: "c", state: "s", config })).host;
    expect(host({})).toBe("login.salesforce.com");
    expect(host({ is_sandbox: true })).toBe("test.salesforce.com");
    expect(host({ my_domain: "acme.my.salesforce.com" })).toBe("acme.my.salesforce.com");
    expect(new URL(renderTokenRequest(sf, { clientId: "c", clientSecret: "s", config: { is_sandbox: true } }).url).host).toBe("test.salesforce.com");
  });

  it("puts the Zendesk subdomain in the host and sends a JSON body", () => {
    const zd = fixtures.find((f) => f.file === "shim/source-zendesk-support/snapshots__spec__capture.stdout.json")!.oauth2;
    const req = renderTokenRequest(zd, { clientId: "c", clientSecret: "s", redirectUri: "http://localhost:16963/", config: { subdomain: "acme" }, params: { code: "k" } });
    expect(req.url).toBe("https://acme.zendesk.com/oauth/tokens");
    expect(JSON.parse(req.body!)).toEqual({ grant_type: "authorization_code", code: "k", client_id: "c", client_secret: "s", redirect_uri: "http://localhost:16963/", scope: "read" });
    expect(req.headers).toEqual({ accept: "application/json", "Content-Type": "application/json" });
  });
});

/** Values with every character URL and form encoding must protect (but no quote, which JSON bodies cannot take raw). */
const NASTY = {
  ...SAMPLE,
  clientId: "id&x=1+2 3/4%5#6?",
  clientSecret: "se/cr+et=&% #?",
  code: "4/0Ab+c=d&e f%",
  redirectUri: "http://127.0.0.1:16963/cb?x=1&y=2",
};

/**
 * Renders one fixture's requests with `values` and checks what the provider would receive.
 * A variable is checked when the template protects it: inside {{#urlencode}} in a URL or form, or
 * raw in a JSON body; with SAMPLE values (which no encoding changes) every variable is checked.
 */
function checkFixture(oauth2: OAuth2, values: typeof SAMPLE): void {
  const plain = values === SAMPLE;
  const protectedIn = (template: string | undefined, name: string, json: boolean) => {
    const refs = (template ? templateReferences(template) : []).filter((r) => r.name === name);
    return refs.length > 0 && (plain || refs.every((r) => r.kind === "raw" && (json || r.sections.includes("urlencode"))));
  };

  // With NASTY values, a template that leaves one of them unencoded corrupts everything after it
  // (the lint reports that); such a template is checked with SAMPLE values only.
  const nastyNames = ["client_id", "client_secret", "code", "redirect_uri"];
  const leaksNasty = (template: string | undefined, json: boolean) =>
    !plain && (template ? templateReferences(template) : []).some((r) => nastyNames.includes(r.name) && !(r.kind === "raw" && (json || r.sections.includes("urlencode"))));

  // The authorize URL parses, and the variables arrive intact as parameters.
  if (leaksNasty(oauth2.authUrlTemplate, false)) return;
  const authUrl = new URL(renderAuthUrl(oauth2, { clientId: values.clientId, state: values.state, redirectUri: values.redirectUri, config: values.config, codeChallenge: values.codeChallenge }));
  expect(authUrl.hostname).toMatch(/^[a-z0-9.-]+$/);
  const authValues = [...authUrl.searchParams.values()];
  for (const [name, value] of [["state", values.state], ["client_id", values.clientId], ["redirect_uri", values.redirectUri], ["code_challenge", values.codeChallenge]] as const) {
    if (protectedIn(oauth2.authUrlTemplate, name, false)) expect(authValues, name).toContain(value);
  }
  if (/code_challenge/.test(oauth2.authUrlTemplate)) expect(authUrl.searchParams.get("code_challenge_method")).toBe("S256");

  // The token request: the URL parses, the body decodes as its content type says, values arrive intact.
  const req = renderTokenRequest(oauth2, {
    clientId: values.clientId,
    clientSecret: values.clientSecret,
    redirectUri: values.redirectUri,
    config: values.config,
    codeVerifier: values.codeVerifier,
    params: { code: values.code },
  });
  expect(req.method).toBe("POST");
  if (leaksNasty(oauth2.accessTokenUrlTemplate, false)) return;
  const tokenUrl = new URL(req.url);
  expect(tokenUrl.hostname).toMatch(/^[a-z0-9.-]+$/);
  const contentType = Object.entries(req.headers).find(([k]) => k.toLowerCase() === "content-type")![1];
  const jsonBody = req.body !== null && contentType.includes("json") && req.body.trim().startsWith("{");
  if (leaksNasty(oauth2.accessTokenBody ?? "", jsonBody)) return;
  const sent: string[] = [...tokenUrl.searchParams.values()];
  if (req.body !== null) {
    if (contentType.includes("x-www-form-urlencoded")) sent.push(...new URLSearchParams(req.body).values());
    else if (jsonBody) sent.push(...Object.values(JSON.parse(req.body) as Record<string, unknown>).map(String));
  }
  for (const [name, value] of [["code", values.code], ["code_verifier", values.codeVerifier], ["redirect_uri", values.redirectUri], ["client_id", values.clientId], ["client_secret", values.clientSecret]] as const) {
    if (protectedIn(oauth2.accessTokenUrlTemplate, name, false) || protectedIn(oauth2.accessTokenBody, name, jsonBody)) expect(sent, name).toContain(value);
  }
  const basic = Object.values(req.headers).find((v) => v.startsWith("Basic "));
  if (basic) expect(basic).toBe("Basic " + Buffer.from(`${values.clientId}:${values.clientSecret}`).toString("base64"));
  expect(req.url + (req.body ?? "") + JSON.stringify(req.headers)).not.toMatch(/\{\{|undefined/);

  // The response map keeps exactly the mapped keys that resolve.
  const map = oauth2.accessTokenResponseMap ?? {};
  const response = { access_token: "AT", refresh_token: "RT", expires_in: 3600, token: "TOK", instance_url: "https://acme.my.salesforce.com", data: { access_token: "DAT" } };
  if (Object.values(map).some((v) => typeof v !== "string")) {
    expect(() => applyResponseMap(map, response, { now })).toThrow(/must be a string/);
    return;
  }
  const mapped = applyResponseMap(map, response, { now });
  expect(Object.keys(mapped).sort()).toEqual(Object.keys(map).sort());
  for (const [key, spec] of Object.entries(map) as [string, string][]) {
    if (spec.startsWith("/")) expect(mapped[key]).toEqual(spec.split("/").slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], response));
    else if (spec.includes("now_plus")) expect(mapped[key]).toBe("2024-01-01T01:00:00.000Z");
  }
}
