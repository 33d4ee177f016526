/** One link of a `Link` header (RFC 8288). */
export interface WebLink {
  /** The target, resolved against the base URL when one was given (RFC 8288 §3.2). */
  url: string;
  /** The relation types, lower-cased (`rel="next last"` gives `["next", "last"]`). */
  rel: string[];
  /**
   * Every other parameter, names lower-cased. An extended value (`title*=UTF-8''n%C3%A4chste`,
   * RFC 8187) is decoded and stored under its name without the star, and wins over the plain one.
   */
  params: Record<string, string>;
}

const WS = /[ \t]/;

/**
 * Parses `Link` header values (RFC 8288 §3): several links per value and several values (as undici
 * returns repeated headers), quoted parameters with commas, semicolons and escapes inside, commas
 * inside `<…>`, relative targets resolved against `baseUrl`, and RFC 8187 extended parameters.
 * Lenient where servers are sloppy (unquoted values, stray whitespace, a missing `rel`): a link it
 * cannot read is skipped, never thrown on.
 */
export function parseLinkHeader(value: string | readonly string[] | undefined, baseUrl?: string | URL): WebLink[] {
  if (value === undefined) return [];
  const texts = typeof value === "string" ? [value] : value;
  const links: WebLink[] = [];
  for (const text of texts) parseInto(text, baseUrl, links);
  return links;
}

/** The first link with relation type `rel` (case-insensitive), or undefined. */
export function findLink(links: readonly WebLink[], rel: string): WebLink | undefined {
  const wanted = rel.toLowerCase();
  return links.find((l) => l.rel.includes(wanted));
}

function parseInto(text: string, baseUrl: string | URL | undefined, out: WebLink[]): void {
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && WS.test(text[i]!)) i++;
  };
  /** Skips to just after the next comma outside quotes (recovery from a link that cannot be read). */
  const skipToNextLink = () => {
    let quoted = false;
    for (; i < n; i++) {
      const c = text[i];
      if (quoted && c === "\\") i++;
      else if (c === '"') quoted = !quoted;
      else if (c === "," && !quoted) {
        i++;
        return;
      }
    }
  };

  while (i < n) {
    skipWs();
    if (text[i] === ",") {
      i++;
      continue;
    }
    if (text[i] !== "<") {
      skipToNextLink();
      continue;
    }
    const close = text.indexOf(">", i + 1);
    if (close === -1) return;
    const target = text.slice(i + 1, close).trim();
    i = close + 1;
    const params: Record<string, string> = {};
    const extended: Record<string, string> = {};
    let rel: string | undefined;
    for (;;) {
      skipWs();
      if (i >= n || text[i] === ",") break;
      if (text[i] !== ";") {
        // Garbage after the target or a parameter: drop the rest of this link.
        skipToNextLink();
        i--;
        break;
      }
      i++;
      skipWs();
      const nameStart = i;
      while (i < n && !/[=;,\s]/.test(text[i]!)) i++;
      const name = text.slice(nameStart, i).toLowerCase();
      skipWs();
      let paramValue = "";
      if (text[i] === "=") {
        i++;
        skipWs();
        if (text[i] === '"') {
          i++;
          let v = "";
          while (i < n && text[i] !== '"') {
            if (text[i] === "\\" && i + 1 < n) i++;
            v += text[i];
            i++;
          }
          i++;
          paramValue = v;
        } else {
          const start = i;
          while (i < n && text[i] !== ";" && text[i] !== ",") i++;
          paramValue = text.slice(start, i).trim();
        }
      }
      if (name === "") continue;
      if (name.endsWith("*")) {
        const decoded = decodeExtValue(paramValue);
        if (decoded !== undefined) extended[name.slice(0, -1)] = decoded;
      } else if (name === "rel") {
        // RFC 8288 §3.3: occurrences after the first are ignored.
        rel ??= paramValue;
      } else if (!(name in params)) params[name] = paramValue;
    }
    if (i < n && text[i] === ",") i++;
    Object.assign(params, extended);
    if ("rel" in extended) rel = extended.rel;
    delete params.rel;
    const url = resolve(target, baseUrl);
    if (url === undefined) continue;
    out.push({
      url,
      rel: (rel ?? "")
        .split(/\s+/)
        .filter(Boolean)
        .map((r) => r.toLowerCase()),
      params,
    });
  }
}

function resolve(target: string, baseUrl: string | URL | undefined): string | undefined {
  try {
    return baseUrl === undefined ? new URL(target).href : new URL(target, baseUrl).href;
  } catch {
    // A relative target without a base is kept as it is; one that cannot be a URL is dropped.
    return baseUrl === undefined && target !== "" ? target : undefined;
  }
}

/** RFC 8187 ext-value: `charset'language'pct-encoded`; UTF-8 and ISO-8859-1 are decoded. */
function decodeExtValue(value: string): string | undefined {
  const m = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!m) return undefined;
  const charset = m[1]!.toLowerCase();
  const encoded = m[2]!;
  try {
    if (charset === "utf-8") return decodeURIComponent(encoded);
    if (charset === "iso-8859-1") return Buffer.from(encoded.replace(/%([0-9a-f]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("latin1");
  } catch {
    return undefined;
  }
  return undefined;
}
