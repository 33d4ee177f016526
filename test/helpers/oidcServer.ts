import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider from "oidc-provider";
import { request } from "undici";

/** The clients the test authorization server knows. */
export const CLIENTS = {
  /** Confidential client that sends its secret in the form (client_secret_post). */
  post: { client_id: "flowcap-post", client_secret: "post-secret-0123456789abcdef" },
  /** Confidential client that authenticates with HTTP Basic (client_secret_basic). */
  basic: { client_id: "flowcap-basic", client_secret: "basic-secret-0123456789abcdef" },
  /** A service client for the client-credentials grant. */
  service: { client_id: "flowcap-service", client_secret: "service-secret-0123456789abcdef" },
} as const;

export interface OidcServer {
  issuer: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** Every request the server received: method and URL (path and query). */
  requests: { method: string; url: string }[];
  /** Looks an access token up at the introspection endpoint (RFC 7662). */
  introspect(token: string): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect / OAuth 2.0 authorization server (the `oidc-provider` package) on
 * 127.0.0.1 with an ephemeral port: authorization code with PKCE (required, S256), refresh tokens
 * that rotate on every use, client credentials, and its development login and consent pages.
 */
export async function startOidcServer(): Promise<OidcServer> {
  const requests: { method: string; url: string }[] = [];
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "" });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const native = { application_type: "native", redirect_uris: ["http://127.0.0.1/"], grant_types: ["authorization_code", "refresh_token"], response_types: ["code"] };
  const provider = new Provider(issuer, {
    clients: [
      { ...CLIENTS.post, ...native, token_endpoint_auth_method: "client_secret_post" },
      { ...CLIENTS.basic, ...native, token_endpoint_auth_method: "client_secret_basic" },
      { ...CLIENTS.service, redirect_uris: [], response_types: [], grant_types: ["client_credentials"], token_endpoint_auth_method: "client_secret_basic" },
    ],
    pkce: { required: () => true, methods: ["S256"] },
    features: { clientCredentials: { enabled: true }, introspection: { enabled: true }, devInteractions: { enabled: true } },
    rotateRefreshToken: true,
    scopes: ["openid", "offline_access", "read"],
    ttl: { AccessToken: 600, ClientCredentials: 600, RefreshToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 600, Grant: 600, IdToken: 600 },
    cookies: { keys: ["flowcap-test-cookie-key-0123456789"] },
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
  });
  // The dev interactions warn on the console once; nothing to see in tests.
  provider.on("server_error", (_ctx: unknown, error: Error) => process.stderr.write(`oidc-provider: ${error.stack}\n`));
  handler = provider.callback();

  return {
    issuer,
    authorizeUrl: `${issuer}/auth`,
    tokenUrl: `${issuer}/token`,
    requests,
    async introspect(token) {
      const r = await request(`${issuer}/token/introspection`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", authorization: "Basic " + btoa(`${CLIENTS.basic.client_id}:${CLIENTS.basic.client_secret}`) },
        body: new URLSearchParams({ token }).toString(),
      });
      return (await r.body.json()) as Record<string, unknown>;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Plays the user in a browser with plain HTTP: opens the authorize URL, follows redirects with a
 * cookie jar, submits the login form (any login and password) and the consent form, and stops at
 * the redirect to the client (which it follows too when `followToClient`). Returns that final
 * redirect URL.
 */
export async function signIn(authorizeUrl: string, options: { login?: string; followToClient?: boolean; deny?: boolean } = {}): Promise<{ redirect: URL; clientStatus?: number; clientBody?: string }> {
  const jar = new Map<string, string>();
  const issuer = new URL(authorizeUrl).origin;
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const remember = (setCookie: string | string[] | undefined) => {
    for (const line of [setCookie ?? []].flat()) {
      const [pair] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  };
  const go = async (url: string, init: { method?: string; body?: string } = {}) => {
    const r = await request(url, {
      method: (init.method ?? "GET") as "GET" | "POST",
      headers: { cookie: cookieHeader(), ...(init.body ? { "content-type": "application/x-www-form-urlencoded" } : {}) },
      body: init.body,
    });
    remember(r.headers["set-cookie"]);
    const body = await r.body.text();
    return { status: r.statusCode, location: r.headers.location as string | undefined, body };
  };

  let url = authorizeUrl;
  for (let step = 0; step < 20; step++) {
    const page = await go(url);
    if (page.status >= 300 && page.status < 400 && page.location) {
      const next = new URL(page.location, url);
      if (next.origin !== issuer) {
        // The redirect to the client: the end of the provider's part.
        if (!options.followToClient) return { redirect: next };
        const client = await request(next.href.replace("//localhost:", "//127.0.0.1:"));
        return { redirect: next, clientStatus: client.statusCode, clientBody: await client.body.text() };
      }
      url = next.href;
      continue;
    }
    if (page.status !== 200) throw new Error(`the authorization server answered HTTP ${page.status} at ${url}: ${page.body.slice(0, 500)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(page.body)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(page.body)?.[1];
    if (!action || !prompt) throw new Error(`no form on the page at ${url}: ${page.body.slice(0, 500)}`);
    if (options.deny && prompt === "consent") {
      const abort = /href="([^"]*\/abort)"/.exec(page.body)?.[1] ?? new URL(action, url).pathname + "/abort";
      url = new URL(abort, url).href;
      continue;
    }
    const fields: Record<string, string> = prompt === "login" ? { prompt, login: options.login ?? "alice", password: "any" } : { prompt };
    const posted = await go(new URL(action, url).href, { method: "POST", body: new URLSearchParams(fields).toString() });
    if (!(posted.status >= 300 && posted.status < 400 && posted.location)) throw new Error(`submitting the ${prompt} form answered HTTP ${posted.status}: ${posted.body.slice(0, 500)}`);
    url = new URL(posted.location, url).href;
  }
  throw new Error("too many steps signing in");
}
