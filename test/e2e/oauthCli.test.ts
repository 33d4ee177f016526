import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOAuth2TokenSource, type OAuth2Credentials } from "../../src/oauth/index.js";
import { parse as parseYaml } from "yaml";
import { spawnConnector, type ChildRun } from "../helpers/child.js";
import { fixturePath, haveSharedFixtures, repoRoot } from "../helpers/fixtures.js";
import { CLIENTS, signIn, startOidcServer, type OidcServer } from "../helpers/oidcServer.js";

/**
 * The CLI door: the built `flowcap oauth` against a connector in a catalog, with oidc-provider on
 * 127.0.0.1 as the authorization server, signed in with plain HTTP requests.
 */
const dir = path.join(repoRoot, "test/.tmp/oauth-cli");
const cli = path.join(repoRoot, "dist/src/cli/main.js");
let server: OidcServer;

const CONFIG_YAML = [
  "# Test capture config: flowcap oauth --write must keep this comment",
  "start: 5 # the first number",
  "credentials:",
  "  credentials_title: Private App Credentials",
  "  access_token: old-personal-token",
  "",
].join("\n");

beforeAll(async () => {
  server = await startOidcServer();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dist = (p: string) => pathToFileURL(path.join(repoRoot, "dist/src", p)).href;
  // A flowcap connector whose spec declares OAuth against the test server (ISSUER from its env).
  writeFileSync(
    path.join(dir, "connector.mjs"),
    `import { defineConnector, defineResource, serve } from ${JSON.stringify(dist("public/index.js"))};
import { accessTokenCredentialsSchema, credentialsSchema, defineOAuth2 } from ${JSON.stringify(dist("public/oauth.js"))};
const issuer = process.env.ISSUER;
const auth = defineOAuth2({
  provider: "flowcap-test",
  authorizeUrl: issuer + "/auth",
  tokenUrl: process.env.TOKEN_URL ?? issuer + "/token",
  scopes: ["openid", "offline_access"],
  authorizeParams: { prompt: "consent" },
  credentials: "rotating",
});
await serve(defineConnector({
  documentationUrl: "https://example.com/docs",
  config: {
    type: "object",
    properties: { start: { type: "integer", default: 1 }, credentials: credentialsSchema(auth.credentials, accessTokenCredentialsSchema()) },
    required: ["credentials"],
  },
  oauth2: auth.oauth2,
  resources: [defineResource({ name: "numbers", key: ["/n"], schema: { type: "object" }, async *capture() {} })],
}));
`,
  );
  writeFileSync(path.join(dir, "config.yaml"), CONFIG_YAML);
  writeFileSync(
    path.join(dir, "flow.yaml"),
    `captures:\n  acmeCo/source-oauth-test:\n    endpoint:\n      local:\n        command: [node, connector.mjs]\n        config: config.yaml\n        env: { ISSUER: "${server.issuer}" }\n    bindings: []\n`,
  );
});
afterAll(() => server.close());

function flowcap(args: string[], env: Record<string, string> = {}): ChildRun {
  return spawnConnector([process.execPath, cli, ...args], { cwd: dir, env });
}

async function finished(run: ChildRun) {
  const { code } = await run.exit;
  return { code, stdout: run.stdout.lines.join("\n"), stderr: run.stderr.lines.join("\n") };
}

/** Waits for the CLI to print the authorize URL, then returns it. */
async function authorizeUrl(run: ChildRun): Promise<string> {
  await run.stderr.until((lines) => lines.some((l) => l.trim().startsWith(`${server.issuer}/auth?`)), 90_000);
  return run.stderr.lines.find((l) => l.trim().startsWith(`${server.issuer}/auth?`))!.trim();
}

describe("flowcap oauth (CLI)", () => {
  it("lint passes the connector's spec and explains failures in a saved one", async () => {
    const ok = await finished(flowcap(["oauth", "lint", "--source", "flow.yaml"]));
    expect(ok).toMatchObject({ code: 0, stdout: "acmeCo/source-oauth-test: OAuth looks right." });
    if (!haveSharedFixtures) return;
    const asana = await finished(flowcap(["oauth", "lint", "--spec", fixturePath("flow/shim/source-asana/snapshots__spec__capture.stdout.json"), "--json"]));
    expect(asana.code).toBe(1);
    const findings = asana.stdout.split("\n").map((l) => JSON.parse(l) as { rule: string; severity: string });
    expect(findings).toContainEqual(expect.objectContaining({ rule: "secret-in-url", severity: "error", path: "oauth2.accessTokenUrlTemplate" }));
  });

  it("--dry-run prints the host's two requests as one JSON object, and no secret", async () => {
    const run = await finished(
      flowcap(["oauth", "--source", "flow.yaml", "--dry-run", "--client-id", "my client", "--state", "S1", "--code", "C/1", "--code-verifier", "v".repeat(43)], { FLOWCAP_CLIENT_SECRET: "do-not-show" }),
    );
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")).toHaveLength(1);
    const out = JSON.parse(run.stdout) as { authorizeUrl: string; tokenRequest: { method: string; url: string; headers: Record<string, string>; body: string } };
    expect(Object.keys(out)).toEqual(["authorizeUrl", "tokenRequest"]);
    expect(out.authorizeUrl).toBe(
      `${server.issuer}/auth?client_id=my%20client&redirect_uri=http%3A%2F%2Flocalhost%3A16963%2F&response_type=code&state=S1&scope=openid%20offline_access&prompt=consent&code_challenge=7w_YNF9DSfIdPf_pRjSq646_kPr-2-o9NAl16JGghdM&code_challenge_method=S256`,
    );
    expect(out.tokenRequest).toEqual({
      method: "POST",
      url: `${server.issuer}/token`,
      headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=authorization_code&code=C%2F1&redirect_uri=http%3A%2F%2Flocalhost%3A16963%2F&client_id=my%20client&client_secret=%3Cclient_secret%3E&code_verifier=${"v".repeat(43)}`,
    });
    expect(run.stdout + run.stderr).not.toContain("do-not-show");
  });

  it("--dry-run refuses a code verifier RFC 7636 does not allow, with a usage error", async () => {
    const short = await finished(flowcap(["oauth", "--source", "flow.yaml", "--dry-run", "--code-verifier", "v".repeat(42)]));
    expect(short).toMatchObject({ code: 2, stdout: "" });
    expect(short.stderr).toMatch(/^flowcap oauth: --code-verifier must be 43 to 128 characters of A-Z, a-z, 0-9, "-", "\.", "_" and "~" \(RFC 7636 §4\.1\); it is 42 characters long/);
    const badChars = await finished(flowcap(["oauth", "--source", "flow.yaml", "--dry-run", "--code-verifier", "v".repeat(43) + "+/"]));
    expect(badChars.code).toBe(2);
    expect(badChars.stderr).toMatch(/^flowcap oauth: --code-verifier must be .*; it contains "\+", "\/"/);
  });

  it("signs in, exchanges the code, prints masked credentials, and --write merges them into the config file", async () => {
    writeFileSync(path.join(dir, "config.yaml"), CONFIG_YAML);
    const run = flowcap(["oauth", "--source", "flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0", "--write"], { FLOWCAP_CLIENT_SECRET: CLIENTS.post.client_secret });
    const url = await authorizeUrl(run);
    const { clientStatus, clientBody } = await signIn(url, { followToClient: true });
    expect(clientStatus).toBe(200);
    expect(clientBody).toContain("You may close this window");
    const result = await finished(run);
    expect(result.stderr).toContain("Wrote the credentials into config.yaml, replacing credentials of another auth method.");
    expect(result.code).toBe(0);

    // stdout: the credentials, secrets masked.
    const printed = JSON.parse(result.stdout) as { credentials: Record<string, string> };
    expect(printed.credentials).toEqual({
      credentials_title: "OAuth Credentials",
      refresh_token: "[redacted]",
      access_token: "[redacted]",
      access_token_expires_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      client_id: "[redacted]",
      client_secret: "[redacted]",
    });

    // The file: comments and other settings kept, the credentials of the OAuth method in place.
    const text = readFileSync(path.join(dir, "config.yaml"), "utf8");
    expect(text.startsWith("# Test capture config: flowcap oauth --write must keep this comment\nstart: 5 # the first number\ncredentials:\n  credentials_title: OAuth Credentials\n")).toBe(true);
    const written = (parseYaml(text) as { credentials: OAuth2Credentials }).credentials;
    expect(Object.keys(written)).toEqual(["credentials_title", "refresh_token", "access_token", "access_token_expires_at", "client_id", "client_secret"]);
    expect(written.client_secret).toBe(CLIENTS.post.client_secret);
    expect((await server.introspect(written.access_token!)).active).toBe(true);

    // The written refresh token works at run time.
    const source = createOAuth2TokenSource({ credentials: written, tokenUrl: server.tokenUrl });
    expect((await source.refresh()).accessToken).not.toBe(written.access_token);

    // No secret or token reached the terminal.
    for (const secret of [CLIENTS.post.client_secret, written.refresh_token!, written.access_token!]) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it("listens on the port of --redirect-uri, and prints secrets only with --show-secrets", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const run = flowcap(["oauth", "--source", "flow.yaml", "--client-id", CLIENTS.basic.client_id, "--redirect-uri", `http://127.0.0.1:${port}/`, "--show-secrets"], {
      FLOWCAP_CLIENT_SECRET: CLIENTS.basic.client_secret,
    });
    const url = await authorizeUrl(run);
    expect(new URL(url).searchParams.get("redirect_uri")).toBe(`http://127.0.0.1:${port}/`);
    await signIn(url, { followToClient: true });
    const result = await finished(run);
    expect(result.code).toBe(0);
    const { credentials } = JSON.parse(result.stdout) as { credentials: Record<string, string> };
    expect(credentials.client_secret).toBe(CLIENTS.basic.client_secret);
    expect((await server.introspect(credentials.access_token!)).active).toBe(true);
    expect(result.stderr).toContain("Run again with --write to save them into the capture's config.");
  });

  it("opens the browser named by $BROWSER with the authorize URL", async () => {
    const opened = path.join(dir, "opened.txt");
    rmSync(opened, { force: true });
    const browser = path.join(dir, "browser.sh");
    writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > ${JSON.stringify(opened)}\n`, { mode: 0o755 });
    const run = flowcap(["oauth", "--source", "flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0", "--timeout", "2"], { FLOWCAP_CLIENT_SECRET: "s", BROWSER: browser });
    const url = await authorizeUrl(run);
    await run.stderr.until((lines) => lines.includes("(asked your browser to open it)"));
    await finished(run);
    expect(readFileSync(opened, "utf8")).toBe(url);
  });

  it("asks for the client secret on a terminal, without echoing it", async () => {
    // A pseudo-terminal from Python's pty module plays the user at the keyboard.
    const script = [
      "import os, pty, select, sys",
      "pid, fd = pty.fork()",
      "if pid == 0:",
      "    os.execv(sys.argv[1], sys.argv[1:])",
      "sent = False",
      "seen = b''",
      "while True:",
      "    r, _, _ = select.select([fd], [], [], 0.1)",
      "    if fd in r:",
      "        try:",
      "            data = os.read(fd, 4096)",
      "        except OSError:",
      "            break",
      "        if not data:",
      "            break",
      "        seen += data",
      "        sys.stdout.buffer.write(data)",
      "        sys.stdout.flush()",
      "        if not sent and b'Client secret: ' in seen:",
      `            os.write(fd, ${JSON.stringify(CLIENTS.post.client_secret)}.encode() + b'\\r')`,
      "            sent = True",
      "_, status = os.waitpid(pid, 0)",
      "sys.exit(os.waitstatus_to_exitcode(status))",
    ].join("\n");
    const run = spawnConnector(["python3", "-c", script, process.execPath, cli, "oauth", "--source", "flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0", "--show-secrets"], { cwd: dir });
    await run.stdout.until((lines) => lines.some((l) => l.trim().startsWith(`${server.issuer}/auth?`)), 90_000);
    const url = run.stdout.lines.find((l) => l.trim().startsWith(`${server.issuer}/auth?`))!.trim();
    await signIn(url, { followToClient: true });
    const { code } = await run.exit;
    const text = run.stdout.lines.join("\n");
    expect(code).toBe(0);
    expect(text).toMatch(/Client secret: \r?\n/);
    // The secret shows only in the credentials printed with --show-secrets, never as typed.
    expect(text.split(CLIENTS.post.client_secret)).toHaveLength(2);
    expect(text).toContain(`"client_secret": "${CLIENTS.post.client_secret}"`);
  });

  it("fails clearly on a state mismatch", async () => {
    const run = flowcap(["oauth", "--source", "flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0"], { FLOWCAP_CLIENT_SECRET: CLIENTS.post.client_secret });
    const { redirect } = await signIn(await authorizeUrl(run));
    redirect.searchParams.set("state", "x".repeat(40));
    expect((await fetch(redirect)).status).toBe(400);
    const result = await finished(run);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n").at(-1)).toBe(
      "flowcap: the redirect's state does not match the one this flow sent: it belongs to another (possibly forged) authorization request, so nothing was exchanged (RFC 6749 §10.12). Start again.",
    );
  });

  it("fails clearly, exit 1, when the token endpoint cannot be reached", async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const tokenUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}/token`;
    await new Promise<void>((r) => probe.close(() => r()));
    writeFileSync(
      path.join(dir, "unreachable.flow.yaml"),
      `captures:\n  acmeCo/source-oauth-unreachable:\n    endpoint:\n      local:\n        command: [node, connector.mjs]\n        config: config.yaml\n        env: { ISSUER: "${server.issuer}", TOKEN_URL: "${tokenUrl}" }\n    bindings: []\n`,
    );
    const run = flowcap(["oauth", "--source", "unreachable.flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0"], { FLOWCAP_CLIENT_SECRET: CLIENTS.post.client_secret });
    // Play the provider's redirect: the flow's state and a code.
    const authorize = new URL(await authorizeUrl(run));
    const redirect = new URL(authorize.searchParams.get("redirect_uri")!);
    redirect.searchParams.set("state", authorize.searchParams.get("state")!);
    redirect.searchParams.set("code", "a-code");
    expect((await fetch(redirect)).status).toBe(200);
    const result = await finished(run);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n").at(-1)).toBe(
      `flowcap: the token request to ${tokenUrl} failed: nothing accepts connections there (connection refused); the authorization code was not exchanged. Check the token URL (oauth2.accessTokenUrlTemplate) and your network, then start again.`,
    );
    expect(result.stderr).not.toContain(CLIENTS.post.client_secret);
  });

  it("shows the provider's error when the user declines", async () => {
    const run = flowcap(["oauth", "--source", "flow.yaml", "--client-id", CLIENTS.post.client_id, "--port", "0"], { FLOWCAP_CLIENT_SECRET: CLIENTS.post.client_secret });
    await signIn(await authorizeUrl(run), { followToClient: true, deny: true });
    const result = await finished(run);
    expect(result.code).toBe(1);
    expect(result.stderr.split("\n").at(-1)).toBe("flowcap: the provider refused the authorization: access_denied: End-User aborted interaction");
  });

  it("times out with advice, and asks for the secret in the environment rather than on the command line", async () => {
    const slow = await finished(flowcap(["oauth", "--source", "flow.yaml", "--client-id", "c", "--port", "0", "--timeout", "1"], { FLOWCAP_CLIENT_SECRET: "s" }));
    expect(slow.code).toBe(1);
    expect(slow.stderr.split("\n").at(-1)).toMatch(/^flowcap: no redirect came back within 1 s\. Did you finish signing in\? The provider must redirect to http:\/\/127\.0\.0\.1:\d+\/ /);

    const noSecret = await finished(flowcap(["oauth", "--source", "flow.yaml", "--client-id", "c", "--port", "0"]));
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/^flowcap oauth: set FLOWCAP_CLIENT_SECRET to the OAuth app's client secret \(it is never taken on the command line\)/);

    const noId = await finished(flowcap(["oauth", "--source", "flow.yaml"], { FLOWCAP_CLIENT_SECRET: "s" }));
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/^flowcap oauth: --client-id is required/);
  });
});
