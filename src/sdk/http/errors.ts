import { FlowcapError } from "../../util/errors.js";

/** What a redacted part of a URL or body is replaced with. */
export const REDACTED_PARAM = "[redacted]";

/**
 * Query parameter names whose values are credentials: RFC 6749 names (`client_secret`, `code`,
 * `refresh_token`, `access_token`, `code_verifier`), API keys, signatures and passwords.
 */
const SECRET_PARAM = /secret|token|passw|pwd|api[-_]?key|apikey|^key$|[-_]key$|signature|^sig$|auth|credential|session|^code$|verifier|assertion/i;

/** True for a query or form parameter name that carries a credential. */
export function isSecretParamName(name: string): boolean {
  return SECRET_PARAM.test(name);
}

/**
 * A URL fit for an error message or a log line: user info removed and the values of
 * credential-like query parameters (`client_secret`, `access_token`, `api_key`, `code`, …)
 * replaced by `[redacted]`, as are those of `secretParams` (the query parameter an API key travels
 * in, whatever it is called). Text that is not a URL is returned unchanged.
 */
export function redactUrl(url: string | URL, secretParams?: Iterable<string>): string {
  const extra = secretParams ? new Set([...secretParams].map((n) => n.toLowerCase())) : undefined;
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return String(url);
  }
  if (parsed.username || parsed.password) {
    parsed.username = "";
    parsed.password = "";
  }
  if (parsed.search) {
    // Rebuilt by hand rather than through searchParams, which would re-encode every other value.
    const parts = parsed.search.slice(1).split("&").map((part) => {
      const eq = part.indexOf("=");
      const rawName = eq === -1 ? part : part.slice(0, eq);
      let name = rawName;
      try {
        name = decodeURIComponent(rawName.replace(/\+/g, " "));
      } catch {
        // keep the raw name
      }
      const secret = isSecretParamName(name) || extra?.has(name.toLowerCase()) === true;
      return eq !== -1 && secret ? `${rawName}=${REDACTED_PARAM}` : part;
    });
    parsed.search = "?" + parts.join("&");
  }
  return parsed.href;
}

/** How much of a response body an HttpStatusError keeps. */
export const BODY_EXCERPT_CHARS = 500;

/**
 * An HTTP response with a status the caller did not accept. Carries the status, the method, the
 * URL with secrets stripped, the response headers and an excerpt of the body. 401 and 403 are
 * marked user-facing: they almost always mean the configured credentials are wrong.
 */
export class HttpStatusError extends FlowcapError {
  /** The HTTP status the API answered. */
  readonly status: number;
  /** The request's method. */
  readonly method: string;
  /** The request URL with credentials stripped (see redactUrl). */
  readonly url: string;
  /** The response headers, names lower-cased. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** The first BODY_EXCERPT_CHARS characters of the body. */
  readonly bodyExcerpt: string;

  constructor(init: { status: number; method: string; url: string; headers?: Record<string, string | string[] | undefined>; body?: string; statusText?: string }) {
    const url = redactUrl(init.url);
    const excerpt = (init.body ?? "").slice(0, BODY_EXCERPT_CHARS);
    const auth = init.status === 401 || init.status === 403;
    const hint = auth ? " (check the configured credentials)" : "";
    const text = init.statusText ? ` ${init.statusText}` : "";
    super("HTTP_STATUS", `${init.method} ${url} answered HTTP ${init.status}${text}${hint}${excerpt ? `: ${excerpt}` : ""}`, {
      userFacing: auth,
      data: { status: init.status, method: init.method, url },
    });
    this.status = init.status;
    this.method = init.method;
    this.url = url;
    this.headers = init.headers ?? {};
    this.bodyExcerpt = excerpt;
  }
}
