import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request } from "undici";
import type { OAuth2 } from "../protocol/index.js";
import { DEFAULT_LOCAL_PORT, defaultRedirectUri, previewFlow, runLocalFlow } from "./localFlow.js";
import { codeChallengeS256 } from "./pkce.js";
import { defineOAuth2 } from "./spec.js";

/**
 * A minimal authorization server on 127.0.0.1: the token endpoint checks the code, the redirect
 * URI and the PKCE verifier against what the authorize URL carried. (The end-to-end tests use a
 * real one, oidc-provider; this one lets each failure be scripted.)
 */
const issued = new Map<string, { challenge: string; redirectUri: string }>();
let tokenStatus = 200;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", (c) => (body += c));
  req.on("end", () => {
    const form = new URLSearchParams(body);
    const grant = issued.get(form.get("code") ?? "");
    res.setHeader("content-type", "application/json");
    if (tokenStatus !== 200) return res.writeHead(tokenStatus).end(JSON.stringify({ error: "invalid_grant", error_description: "code expired" }));
    if (!grant) return res.writeHead(400).end(JSON.stringify({ error: "invalid_grant", error_description: "unknown code" }));
    if (grant.redirectUri !== form.get("redirect_uri")) return res.writeHead(400).end(JSON.stringify({ error: "invalid_grant", error_description: "redirect_uri mismatch" }));
    if (codeChallengeS256(form.get("code_verifier") ?? "") !== grant.challenge) return res.writeHead(400).end(JSON.stringify({ error: "invalid_grant", error_description: "PKCE verification failed" }));
    res.end(JSON.stringify({ access_token: "AT", refresh_token: "RT", expires_in: 3600, token_type: "Bearer", scope: "read" }));
  });
});
let tokenUrl = "";
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  tokenUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function spec(): OAuth2 {
  return defineOAuth2({ provider: "acme", authorizeUrl: "https://auth.acme.example/authorize", tokenUrl }).oauth2;
}

/** Plays the browser: reads the authorize URL, "signs in", and follows the redirect the server would send. */
function browser(transform: (redirect: URL, authorize: URL) => void = () => {}) {
  const pages: { status: number; body: string }[] = [];
  return {
    pages,
    onAuthorizeUrl: async (url: string, redirectUri: string) => {
      const authorize = new URL(url);
      const code = `code-${Math.random()}`;
      issued.set(code, { challenge: authorize.searchParams.get("code_challenge")!, redirectUri });
      const redirect = new URL(authorize.searchParams.get("redirect_uri")!);
      redirect.searchParams.set("code", code);
      redirect.searchParams.set("state", authorize.searchParams.get("state")!);
      transform(redirect, authorize);
      // A stray favicon request first: ignored by the listener.
      await request(new URL("/favicon.ico", redirect)).then((r) => r.body.dump());
      const r = await request(redirect.href.replace("localhost", "127.0.0.1"));
      pages.push({ status: r.statusCode, body: await r.body.text() });
    },
  };
}

describe("runLocalFlow", () => {
  it("runs state + PKCE + loopback redirect + exchange + response map", async () => {
    const b = browser();
    const result = await runLocalFlow({ oauth2: spec(), clientId: "cid", clientSecret: "sec", port: 0, onAuthorizeUrl: b.onAuthorizeUrl });
    expect(result.mapped).toEqual({ refresh_token: "RT" });
    expect(result.responseKeys).toEqual(["access_token", "refresh_token", "expires_in", "token_type", "scope"]);
    expect(result.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(Object.keys(result.redirectParams).sort()).toEqual(["code", "state"]);
    expect(b.pages).toEqual([{ status: 200, body: expect.stringContaining("You may close this window") }]);
  });

  it("rejects a redirect whose state differs, and exchanges nothing", async () => {
    const b = browser((redirect) => redirect.searchParams.set("state", "forged-state"));
    await expect(runLocalFlow({ oauth2: spec(), clientId: "cid", clientSecret: "sec", port: 0, onAuthorizeUrl: b.onAuthorizeUrl })).rejects.toMatchObject({
      code: "OAUTH_FLOW",
      userFacing: true,
      message: expect.stringMatching(/^the redirect's state does not match the one this flow sent/),
    });
    expect(b.pages[0]!.status).toBe(400);
    expect(b.pages[0]!.body).toMatch(/State mismatch/);
  });

  it("shows a provider error clearly", async () => {
    const b = browser((redirect) => {
      redirect.searchParams.delete("code");
      redirect.searchParams.set("error", "access_denied");
      redirect.searchParams.set("error_description", "The user <b>denied</b> access");
    });
    await expect(runLocalFlow({ oauth2: spec(), clientId: "cid", clientSecret: "sec", port: 0, onAuthorizeUrl: b.onAuthorizeUrl })).rejects.toMatchObject({
      error: "access_denied",
      message: "the provider refused the authorization: access_denied: The user <b>denied</b> access",
    });
    expect(b.pages[0]!.body).toContain("The user &#60;b&#62;denied&#60;/b&#62; access");
  });

  it("explains a refused code exchange", async () => {
    tokenStatus = 400;
    try {
      await expect(runLocalFlow({ oauth2: spec(), clientId: "cid", clientSecret: "sec", port: 0, onAuthorizeUrl: browser().onAuthorizeUrl })).rejects.toThrow(
        /refused the code with HTTP 400: invalid_grant: code expired\. The code expired or was already used, or the redirect_uri or code_verifier/,
      );
    } finally {
      tokenStatus = 200;
    }
  });

  it("says so when the token endpoint does not answer in time, or cannot be reached", async () => {
    // Accepts connections, never answers.
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/token`;
    try {
      const hanging = defineOAuth2({ provider: "acme", authorizeUrl: "https://auth.acme.example/authorize", tokenUrl: silentUrl }).oauth2;
      await expect(runLocalFlow({ oauth2: hanging, clientId: "cid", clientSecret: "sec", port: 0, tokenTimeoutMs: 200, onAuthorizeUrl: browser().onAuthorizeUrl })).rejects.toThrow(
        `the token request to ${silentUrl} failed: the token endpoint did not answer within 0.2 s; the authorization code was not exchanged. Check the token URL (oauth2.accessTokenUrlTemplate) and your network, then start again.`,
      );
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
    // The same port, now closed.
    const closed = defineOAuth2({ provider: "acme", authorizeUrl: "https://auth.acme.example/authorize", tokenUrl: silentUrl }).oauth2;
    await expect(runLocalFlow({ oauth2: closed, clientId: "cid", clientSecret: "sec", port: 0, onAuthorizeUrl: browser().onAuthorizeUrl })).rejects.toMatchObject({
      code: "OAUTH_FLOW",
      userFacing: true,
      message: `the token request to ${silentUrl} failed: nothing accepts connections there (connection refused); the authorization code was not exchanged. Check the token URL (oauth2.accessTokenUrlTemplate) and your network, then start again.`,
    });
  });

  it("times out with a message that names the redirect URI", async () => {
    await expect(runLocalFlow({ oauth2: spec(), clientId: "cid", clientSecret: "sec", port: 0, timeoutMs: 100, onAuthorizeUrl: () => {} })).rejects.toThrow(
      /^no redirect came back within 0 s\. Did you finish signing in\? The provider must redirect to http:\/\/127\.0\.0\.1:\d+\/ \(register it with your OAuth app\); use --timeout to wait longer\.$/,
    );
  });

  it("says what to do when the port is taken", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      await expect(runLocalFlow({ oauth2: spec(), clientId: "c", clientSecret: "s", port, onAuthorizeUrl: () => {} })).rejects.toThrow(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      busy.close();
    }
  });

  it("waits on the redirect URI's path, ignores other requests, and closes the listener afterwards", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const redirectUri = `http://127.0.0.1:${port}/oauth/callback`;
    const b = browser();
    const stray: number[] = [];
    const result = await runLocalFlow({
      oauth2: spec(),
      clientId: "cid",
      clientSecret: "sec",
      port,
      redirectUri,
      onAuthorizeUrl: async (url, uri) => {
        // Requests elsewhere, or without any OAuth parameter, leave the listener waiting.
        stray.push((await request(`http://127.0.0.1:${port}/`)).statusCode);
        stray.push((await request(`http://127.0.0.1:${port}/oauth/callback?hello=1`)).statusCode);
        await b.onAuthorizeUrl(url, uri);
      },
    });
    expect(stray).toEqual([404, 400]);
    expect(result.redirectUri).toBe(redirectUri);
    expect(result.mapped).toEqual({ refresh_token: "RT" });
    await expect(request(`http://127.0.0.1:${port}/oauth/callback`)).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("ends at once, listener closed, when printing the URL fails", async () => {
    const started = Date.now();
    await expect(
      runLocalFlow({ oauth2: spec(), clientId: "c", clientSecret: "s", port: 0, timeoutMs: 60_000, onAuthorizeUrl: () => Promise.reject(new Error("stdout closed")) }),
    ).rejects.toThrow("stdout closed");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuses a redirect URI that cannot reach the listener", async () => {
    const run = (redirectUri: string) => runLocalFlow({ oauth2: spec(), clientId: "c", clientSecret: "s", port: 0, redirectUri, onAuthorizeUrl: () => {} });
    await expect(run("https://dashboard.estuary.dev/oauth")).rejects.toThrow(/does not lead back to this machine/);
    await expect(run("http://127.0.0.1:1/")).rejects.toThrow(/is on port 1 but the listener is on port \d+: use --port 1, or leave --redirect-uri out/);
  });

  it("uses flowctl's redirect URI on the default port", () => {
    expect(DEFAULT_LOCAL_PORT).toBe(16963);
    expect(defaultRedirectUri(16963)).toBe("http://localhost:16963/");
    expect(defaultRedirectUri(50123)).toBe("http://127.0.0.1:50123/");
  });
});

describe("previewFlow (--dry-run)", () => {
  it("renders both requests with the given values", () => {
    const preview = previewFlow(spec(), { clientId: "cid", clientSecret: "<client-secret>", state: "S", code: "C", codeVerifier: "v".repeat(43) });
    const url = new URL(preview.authorizeUrl);
    expect(url.searchParams.get("redirect_uri")).toBe("http://localhost:16963/");
    expect(url.searchParams.get("state")).toBe("S");
    expect(url.searchParams.get("code_challenge")).toBe(codeChallengeS256("v".repeat(43)));
    expect(preview.tokenRequest).toEqual({
      method: "POST",
      url: tokenUrl,
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=authorization_code&code=C&redirect_uri=http%3A%2F%2Flocalhost%3A16963%2F&client_id=cid&client_secret=%3Cclient-secret%3E&code_verifier=${"v".repeat(43)}`,
    });
  });

  it("refuses a code verifier RFC 7636 does not allow", () => {
    for (const codeVerifier of ["v".repeat(42), "v".repeat(129), "v".repeat(42) + "+"]) {
      expect(() => previewFlow(spec(), { clientId: "c", clientSecret: "s", codeVerifier })).toThrow(/^the code verifier must be 43 to 128 characters of \[A-Za-z0-9-._~\] \(RFC 7636 §4\.1\)$/);
    }
  });

  it("draws random state, code and verifier when not given", () => {
    const a = previewFlow(spec(), { clientId: "c", clientSecret: "s" });
    const b = previewFlow(spec(), { clientId: "c", clientSecret: "s" });
    expect(new URL(a.authorizeUrl).searchParams.get("state")).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(a.authorizeUrl).not.toBe(b.authorizeUrl);
    expect(new URLSearchParams(a.tokenRequest.body!).get("code_verifier")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
