import { timingSafeEqual } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Dispatcher } from "undici";
import type { OAuth2 } from "../protocol/index.js";
import { redactUrl } from "../sdk/index.js";
import { isPlainObject } from "../util/mergePatch.js";
import { OAuthError } from "./errors.js";
import { createPkce, createState, codeChallengeS256, isValidCodeVerifier } from "./pkce.js";
import { applyResponseMap, FLOWCTL_REDIRECT_URI, renderAuthUrl, renderTokenRequest, type TokenRequest } from "./render.js";

/** The port `flowctl raw oauth` listens on, so apps registered for it work unchanged. */
export const DEFAULT_LOCAL_PORT = 16963;
/** How long the local flow waits for the browser to come back: 5 minutes (flowctl waits 90 s). */
export const DEFAULT_LOCAL_FLOW_TIMEOUT_MS = 300_000;
const INVALID_VERIFIER = "the code verifier must be 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)";
/** How long the token request may take. */
export const TOKEN_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The redirect URI for a local flow on `port`: flowctl's `http://localhost:16963/` on the default
 * port (providers match registered redirect URIs exactly), and the loopback IP literal RFC 8252
 * §7.3 recommends otherwise (providers that follow it accept any port there).
 */
export function defaultRedirectUri(port: number): string {
  return port === DEFAULT_LOCAL_PORT ? FLOWCTL_REDIRECT_URI : `http://127.0.0.1:${port}/`;
}

/** Who signs in, and with what: shared by the local flow and its preview. */
export interface FlowClientOptions {
  clientId: string;
  clientSecret: string;
  /** The endpoint config (templates may use `config.*`). */
  config?: Record<string, unknown>;
  /** Values the host would inject (`oauth2_injected_values`). */
  injectedValues?: Record<string, unknown>;
  now?: () => Date;
}

/** `clientSecret` is used as given: pass a placeholder to keep a real secret off the screen. */
export interface FlowPreviewOptions extends FlowClientOptions {
  /** Random (40 characters, like the host's) unless given. */
  state?: string;
  /** Random unless given. */
  code?: string;
  /** Random (RFC 7636) unless given; the challenge is derived from it. */
  codeVerifier?: string;
  /** `http://localhost:16963/` unless given. */
  redirectUri?: string;
}

/** What the host would send for one authorization: the authorize URL and the token request. */
export interface FlowPreview {
  authorizeUrl: string;
  tokenRequest: TokenRequest;
}

/**
 * Renders a flow's two requests without sending anything (`flowcap oauth --dry-run`), so template
 * authors see exactly what the host will send.
 */
export function previewFlow(oauth2: OAuth2, options: FlowPreviewOptions): FlowPreview {
  if (options.codeVerifier !== undefined && !isValidCodeVerifier(options.codeVerifier)) throw new OAuthError("OAUTH_FLOW", INVALID_VERIFIER);
  const requests = flowRequests(oauth2, options, {
    state: options.state ?? createState(),
    codeVerifier: options.codeVerifier ?? createPkce().codeVerifier,
    redirectUri: options.redirectUri ?? FLOWCTL_REDIRECT_URI,
  });
  return { authorizeUrl: requests.authorizeUrl, tokenRequest: requests.tokenRequest({ code: options.code ?? createState(32) }) };
}

/** One authorization's two requests, rendered from the same state, verifier and redirect URI. */
function flowRequests(oauth2: OAuth2, client: FlowClientOptions, flow: { state: string; codeVerifier: string; redirectUri: string }) {
  const common = { clientId: client.clientId, redirectUri: flow.redirectUri, config: client.config };
  return {
    authorizeUrl: renderAuthUrl(oauth2, { ...common, state: flow.state, codeChallenge: codeChallengeS256(flow.codeVerifier) }, { now: client.now }),
    /** The token request for the redirect's parameters (`state` aside, all go to the templates, as the host does). */
    tokenRequest(params: Record<string, string>): TokenRequest {
      const rest: Record<string, string> = { ...params };
      delete rest.state;
      return renderTokenRequest(oauth2, { ...common, clientSecret: client.clientSecret, codeVerifier: flow.codeVerifier, injectedValues: client.injectedValues, params: rest }, { now: client.now });
    },
  };
}

export interface LocalFlowOptions extends FlowClientOptions {
  oauth2: OAuth2;
  /** The port on 127.0.0.1: DEFAULT_LOCAL_PORT, or 0 for an ephemeral one. */
  port?: number;
  /** The redirect URI registered with the provider: defaultRedirectUri(port) unless given. Its path is where the listener waits. */
  redirectUri?: string;
  timeoutMs?: number;
  /** Called with the authorize URL once the listener is ready: print it, open a browser. */
  onAuthorizeUrl(url: string, redirectUri: string): void | Promise<void>;
  /** Called when the redirect arrived and the code is being exchanged. */
  onRedirect?(params: Record<string, string>): void;
  signal?: AbortSignal;
  /** How long the token endpoint may take to answer: TOKEN_REQUEST_TIMEOUT_MS unless given. */
  tokenTimeoutMs?: number;
  /** For the token request (tests, proxies). */
  dispatcher?: Dispatcher;
  /** Fixed instead of random (tests). */
  state?: string;
  codeVerifier?: string;
}

export interface LocalFlowResult {
  /** The token response after the response map: what the host hands the UI. */
  mapped: Record<string, unknown>;
  /** The keys of the provider's token response (never its values). */
  responseKeys: string[];
  /** The redirect's query parameters (the code among them). */
  redirectParams: Record<string, string>;
  redirectUri: string;
}

/**
 * Runs the whole authorization-code flow locally, as Flow's host would but with nothing but the
 * provider: a fresh `state` and PKCE (S256) pair, one listener on 127.0.0.1 for the redirect, the
 * authorize URL rendered from the connector's template, then, on the redirect, the state checked
 * (constant time), a provider `error` reported, the code exchanged with the connector's token
 * templates, and the response map applied.
 */
export async function runLocalFlow(options: LocalFlowOptions): Promise<LocalFlowResult> {
  const state = options.state ?? createState();
  const codeVerifier = options.codeVerifier ?? createPkce().codeVerifier;
  if (!isValidCodeVerifier(codeVerifier)) throw new OAuthError("OAUTH_FLOW", INVALID_VERIFIER);
  const port = options.port ?? DEFAULT_LOCAL_PORT;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCAL_FLOW_TIMEOUT_MS;

  const listener = await listen(port);
  let cancelWait = () => {};
  try {
    const redirectUri = options.redirectUri ?? defaultRedirectUri(listener.port);
    const expectedPath = redirectPath(redirectUri);
    checkRedirectReachesListener(redirectUri, listener.port);
    const requests = flowRequests(options.oauth2, options, { state, codeVerifier, redirectUri });
    const authorizeUrl = requests.authorizeUrl;
    try {
      new URL(authorizeUrl);
    } catch {
      throw new OAuthError("OAUTH_FLOW", `the authorize URL the template renders is not a URL: ${redactUrl(authorizeUrl)}`);
    }

    const callback = waitForRedirect(listener.server, expectedPath, state, redirectUri, timeoutMs, options.signal);
    cancelWait = callback.cancel;
    // The redirect may fail while onAuthorizeUrl is still running (a browser driven in-process):
    // the rejection is taken below, after it.
    callback.promise.catch(() => {});
    await options.onAuthorizeUrl(authorizeUrl, redirectUri);
    const params = await callback.promise;
    options.onRedirect?.(params);

    const response = await exchange(requests.tokenRequest(params), options);
    return { mapped: applyResponseMap(options.oauth2.accessTokenResponseMap, response, { now: options.now }), responseKeys: isPlainObject(response) ? Object.keys(response) : [], redirectParams: params, redirectUri };
  } finally {
    cancelWait();
    await listener.close();
  }
}

/** The path part of a redirect URI, where the listener accepts the redirect. */
function redirectPath(redirectUri: string): string {
  try {
    return new URL(redirectUri).pathname || "/";
  } catch {
    throw new OAuthError("OAUTH_FLOW", `the redirect URI ${JSON.stringify(redirectUri)} is not a URL`);
  }
}

/** The browser must come back to this listener: a loopback host, on its port. */
function checkRedirectReachesListener(redirectUri: string, port: number): void {
  const url = new URL(redirectUri);
  if (url.protocol !== "http:" || !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
    throw new OAuthError("OAUTH_FLOW", `the redirect URI ${redirectUri} does not lead back to this machine: a local flow needs an http://localhost, http://127.0.0.1 or http://[::1] redirect URI registered with the provider`);
  }
  const uriPort = Number(url.port || 80);
  if (uriPort !== port) {
    throw new OAuthError("OAUTH_FLOW", `the redirect URI ${redirectUri} is on port ${uriPort} but the listener is on port ${port}: use --port ${uriPort}, or leave --redirect-uri out`);
  }
}

async function listen(port: number): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") {
        reject(
          new OAuthError(
            "OAUTH_FLOW",
            `port ${port} on 127.0.0.1 is in use (another flowcap oauth or flowctl raw oauth?). Stop it, or pass --port 0 for a free port (with a loopback redirect URI such as http://127.0.0.1/ registered at the provider) or --port <n>.`,
            { cause: error },
          ),
        );
      } else reject(new OAuthError("OAUTH_FLOW", `cannot listen on 127.0.0.1:${port}: ${error.message}`, { cause: error }));
    });
    // Loopback only (RFC 8252 §8.3): nothing else on the network can reach the listener.
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Waits for the one redirect to `path`; other requests (a favicon) get 404 and are ignored. */
function waitForRedirect(
  server: Server,
  path: string,
  state: string,
  redirectUri: string,
  timeoutMs: number,
  signal?: AbortSignal,
): { promise: Promise<Record<string, string>>; cancel(): void } {
  let cancel = () => {};
  const promise = new Promise<Record<string, string>>((resolve, reject) => {
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      fn();
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new OAuthError(
              "OAUTH_FLOW",
              `no redirect came back within ${Math.round(timeoutMs / 1000)} s. Did you finish signing in? The provider must redirect to ${redirectUri} (register it with your OAuth app); use --timeout to wait longer.`,
            ),
          ),
        ),
      timeoutMs,
    );
    const onAbort = () => finish(() => reject(new OAuthError("OAUTH_FLOW", "the OAuth flow was cancelled before the redirect came back")));
    cancel = () => finish(() => reject(new OAuthError("OAUTH_FLOW", "the OAuth flow ended before the redirect came back")));
    signal?.addEventListener("abort", onAbort, { once: true });

    server.on("request", (req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      if (req.method !== "GET" || url.pathname !== path) return page(res, 404, "Not found", `This is flowcap's OAuth listener; it waits for the redirect to ${path}.`);
      if (done) return page(res, 410, "Already handled", "This authorization was already handled. Return to your terminal.");
      const params = Object.fromEntries(url.searchParams);
      if (params.error) {
        const text = [params.error, params.error_description].filter(Boolean).join(": ");
        page(res, 400, "Authorization refused", `The provider returned an error: ${text}. Return to your terminal.`);
        const more = params.error_uri ? ` (see ${params.error_uri})` : "";
        return finish(() =>
          reject(new OAuthError("OAUTH_FLOW", `the provider refused the authorization: ${text}${more}`, { error: params.error, errorDescription: params.error_description })),
        );
      }
      if (params.state === undefined && params.code === undefined) return page(res, 400, "Not an OAuth redirect", "This request has neither code nor state nor error; still waiting for the redirect.");
      if (!sameSecret(params.state ?? "", state)) {
        page(res, 400, "State mismatch", "The state in this redirect is not the one flowcap sent, so it was not accepted. Return to your terminal and start again.");
        return finish(() =>
          reject(
            new OAuthError(
              "OAUTH_FLOW",
              "the redirect's state does not match the one this flow sent: it belongs to another (possibly forged) authorization request, so nothing was exchanged (RFC 6749 §10.12). Start again.",
            ),
          ),
        );
      }
      if (!params.code) {
        page(res, 400, "No code", "The redirect carried no authorization code. Return to your terminal.");
        return finish(() => reject(new OAuthError("OAUTH_FLOW", "the redirect carried the right state but no code")));
      }
      page(res, 200, "Signed in", "flowcap received the authorization code and is exchanging it. You may close this window and return to your terminal.");
      finish(() => resolve(params));
    });
  });
  return { promise, cancel: () => cancel() };
}

/** Why the token endpoint could not be reached, in words (undici's own are "Headers Timeout Error"). */
function unreachableReason(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: unknown }).code;
  if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") return `the token endpoint did not answer within ${timeoutMs / 1000} s`;
  if (code === "ECONNREFUSED") return "nothing accepts connections there (connection refused)";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "its host name does not resolve";
  return (error as Error).message;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function page(res: ServerResponse, status: number, title: string, text: string): void {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", connection: "close" });
  res.end(`<!doctype html><meta charset="utf-8"><title>flowcap: ${esc(title)}</title><h1>${esc(title)}</h1><p>${esc(text)}</p>\n`);
}

/**
 * Sends the token request once (an authorization code is single-use, so a retry could only fail)
 * and returns the parsed JSON response; a refusal becomes an OAuthError with the provider's
 * error fields and a hint, never the request's secrets.
 */
async function exchange(request: TokenRequest, options: Pick<LocalFlowOptions, "dispatcher" | "signal" | "tokenTimeoutMs">): Promise<unknown> {
  const shown = redactUrl(request.url);
  const timeoutMs = options.tokenTimeoutMs ?? TOKEN_REQUEST_TIMEOUT_MS;
  let status: number;
  let text: string;
  let type: string;
  try {
    const { request: undiciRequest } = await import("undici");
    const response = await undiciRequest(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body ?? undefined,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      dispatcher: options.dispatcher,
      signal: options.signal,
    });
    status = response.statusCode;
    type = String(response.headers["content-type"] ?? "");
    text = await response.body.text();
  } catch (error) {
    throw new OAuthError(
      "OAUTH_FLOW",
      `the token request to ${shown} failed: ${unreachableReason(error, timeoutMs)}; the authorization code was not exchanged. Check the token URL (oauth2.accessTokenUrlTemplate) and your network, then start again.`,
      { cause: error },
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    if (/x-www-form-urlencoded/i.test(type)) body = Object.fromEntries(new URLSearchParams(text));
    else throw new OAuthError("OAUTH_FLOW", `the token endpoint ${shown} answered HTTP ${status} with a body that is not JSON (${type || "no content-type"}): ${text.slice(0, 300)}`);
  }
  if (status >= 400) {
    const fields = isPlainObject(body) ? body : {};
    const error = typeof fields.error === "string" ? fields.error : undefined;
    const description = typeof fields.error_description === "string" ? fields.error_description : undefined;
    const detail = [error, description].filter(Boolean).join(": ") || text.slice(0, 300);
    const hint =
      error === "invalid_grant"
        ? " The code expired or was already used, or the redirect_uri or code_verifier in the token request differ from the authorization request's."
        : error === "invalid_client" || status === 401
          ? " Check the client id and secret, and how the templates send them (Basic header or form)."
          : "";
    throw new OAuthError("OAUTH_FLOW", `the token endpoint ${shown} refused the code with HTTP ${status}: ${detail}.${hint}`, { error, errorDescription: description });
  }
  return body;
}
