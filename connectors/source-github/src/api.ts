import {
  ConfigError,
  createHttpClient,
  createResponseCache,
  HttpStatusError,
  isRateLimitedResponse,
  linkHeader,
  paginate,
  type HttpAuth,
  type HttpClient,
  type Logger,
  type QueryParams,
  type RetryContext,
} from "flowcap";
import type { Config } from "./models.js";

/** The media type GitHub's REST API v3 answers (and its recordings expect). */
const ACCEPT = "application/vnd.github.v3+json";

/** What the connector keeps of responses to revalidate (labels, releases, repositories, the first page of each poll). */
const RESPONSE_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * How long every request waits after a secondary rate limit that says neither `Retry-After` nor
 * a spent `X-RateLimit-Remaining`: "at least one minute", GitHub's documentation says.
 */
export const SECONDARY_LIMIT_PAUSE_MS = 60_000;

/**
 * Statuses GitHub answers for a listing that has nothing to list: 409 for the commits of an
 * empty repository, 410 for the issues of a repository that disabled them.
 */
const NOTHING_TO_LIST: Record<number, string> = { 409: "the repository is empty", 410: "the feature is disabled for the repository" };

/** A listing of GitHub's REST API: its path relative to the API URL (or a next-page link), its query, and fields added to each item. */
export interface Listing {
  path: string;
  query?: QueryParams;
  add: Record<string, unknown>;
}

/** Where a backfill resumes: which of its listings, and the link to that listing's next page (absent: its first). */
export type BackfillPage = readonly [listing: number, next?: string];

/** GitHub's timestamps have whole seconds: `2024-05-01T12:00:00Z` (a cursor with milliseconds rounds down, so nothing is skipped). */
export function iso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * The REST API's base URL, with a trailing slash: `api_url` as given, except that a bare https host
 * is a GitHub Enterprise Server's (its API is at `/api/v3/`) and github.com's API is api.github.com.
 */
export function apiBaseUrl(apiUrl: string): string {
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new ConfigError([{ path: "api_url", message: `${JSON.stringify(apiUrl)} is not a URL` }]);
  }
  if (url.hostname === "github.com" || url.hostname === "www.github.com") return "https://api.github.com/";
  if (url.protocol === "https:" && url.pathname === "/" && url.hostname !== "api.github.com") url.pathname = "/api/v3/";
  return url.href.endsWith("/") ? url.href : url.href + "/";
}

/** The configured tokens, used in turn (Airbyte's comma-separated personal access tokens), as `Authorization: token ...`. */
function tokenAuth(credentials: Config["credentials"]): HttpAuth {
  const given = "personal_access_token" in credentials ? credentials.personal_access_token.split(",") : [credentials.access_token];
  const tokens = given.map((t) => t.trim()).filter(Boolean);
  if (!tokens.length) throw new ConfigError([{ path: "credentials", message: "holds no token" }]);
  let turn = 0;
  return {
    secrets: tokens,
    apply: ({ headers }) => {
      const token = tokens[turn++ % tokens.length]!;
      headers.authorization = `token ${token}`;
      return { secrets: [token] };
    },
  };
}

/** GitHub's REST API as the resources read it: listings page by page, conditional requests, the configured repositories. */
export class GitHub {
  readonly http: HttpClient;
  readonly apiUrl: string;
  readonly pageSize: number;
  readonly startDate: Date | undefined;
  private readonly cache = createResponseCache({ maxBytes: RESPONSE_CACHE_BYTES });
  private readonly patterns: string[];
  private readonly branches: string[];
  private repos: Promise<string[]> | undefined;
  private readonly defaultBranches = new Map<string, Promise<string>>();

  constructor(
    config: Config,
    private readonly log: Logger,
    signal: AbortSignal,
  ) {
    this.apiUrl = apiBaseUrl(config.api_url);
    this.pageSize = config.page_size_for_large_streams;
    this.startDate = config.start_date ? new Date(config.start_date) : undefined;
    this.patterns = [...new Set(config.repositories ?? config.repository?.split(/\s+/).filter(Boolean) ?? [])];
    if (!this.patterns.length) throw new ConfigError([{ path: "repositories", message: "is required: list repositories as owner/repo or owner/*" }]);
    this.branches = config.branches ?? config.branch?.split(/\s+/).filter(Boolean) ?? [];
    this.http = createHttpClient({
      baseUrl: this.apiUrl,
      auth: tokenAuth(config.credentials),
      headers: { "x-github-api-version": "2022-11-28" },
      userAgent: "flowcap-source-github",
      maxConcurrentRequests: config.max_concurrent_requests,
      maxRetryAfterMs: config.max_waiting_time * 60_000,
      log,
      signal,
    });
  }

  /**
   * Retries what the client retries by default (5xx; 429, and GitHub's 403 with `Retry-After` or a
   * spent `X-RateLimit-Remaining`, which pause the client's rate limiter until then), and a
   * secondary limit that carries neither, after the minute GitHub asks for. Every request waits
   * then, not only this one: the limit is the token's.
   */
  readonly shouldRetry = (ctx: RetryContext): boolean => {
    if (ctx.status >= 500 || isRateLimitedResponse(ctx.status, ctx.headers)) return true;
    if ((ctx.status === 403 || ctx.status === 429) && /secondary rate limit/i.test(ctx.body)) {
      this.http.rateLimiter?.pauseUntil(Date.now() + SECONDARY_LIMIT_PAUSE_MS);
      return true;
    }
    return false;
  };

  /** A link as the state keeps it: relative to the API URL, so a checkpoint survives a change of it. */
  private relative(link: string): string {
    return link.startsWith(this.apiUrl) ? link.slice(this.apiUrl.length) : link;
  }

  /**
   * The pages of a listing, following its `Link: rel="next"` headers. With `conditional`, each
   * request revalidates its last answer (`If-None-Match`): GitHub does not count a 304 against the
   * rate limit, so polling what did not change is free.
   */
  async *pages<T>(listing: Listing, signal: AbortSignal, conditional = false): AsyncGenerator<{ items: T[]; next: string | undefined }> {
    const options = { strategy: linkHeader(), query: listing.query, signal, headers: { accept: ACCEPT }, shouldRetry: this.shouldRetry, ...(conditional ? { cache: this.cache } : {}) };
    try {
      for await (const page of paginate<Record<string, unknown>>(this.http, listing.path, options)) {
        const items = page.items.map((item) => ({ ...item, ...listing.add }) as T);
        yield { items, next: page.next === undefined ? undefined : this.relative(String(page.next)) };
      }
    } catch (error) {
      if (!(error instanceof HttpStatusError && NOTHING_TO_LIST[error.status])) throw error;
      this.log.info(`${listing.path}: nothing to capture, ${NOTHING_TO_LIST[error.status]} (GitHub answered HTTP ${error.status})`);
    }
  }

  /** One resource, revalidated as `pages` does with `conditional`. */
  async get<T>(path: string, signal: AbortSignal): Promise<T> {
    return (await this.http.request(path, { headers: { accept: ACCEPT }, signal, shouldRetry: this.shouldRetry, cache: this.cache })).json<T>();
  }

  /**
   * Everything updated at or after `since` in a listing GitHub filters by `since` and can sort by
   * `updated_at` ascending (issues, comments), with the cursor after each page. It asks again from
   * the newest value it saw rather than for the next page number: pages shift when documents are
   * updated during the walk, and a keyset cannot skip one.
   */
  async *ascending<T extends { updated_at: string }>(listing: Listing, since: Date, signal: AbortSignal): AsyncGenerator<T | Date> {
    let from = since;
    for (;;) {
      const query = { ...listing.query, sort: "updated", direction: "asc", since: iso(from), per_page: this.pageSize };
      let again = false;
      for await (const page of this.pages<T>({ ...listing, query }, signal, true)) {
        yield* page.items;
        const last = page.items.at(-1);
        if (!last) return;
        const at = new Date(last.updated_at);
        yield at > from ? at : from;
        // (A full page at one value can only go on to its next page.)
        if (page.next && at > from) {
          from = at;
          again = true;
          break;
        }
      }
      if (!again) return;
    }
  }

  /**
   * Everything at or after `since` in a listing that runs newest first (pull requests by
   * `updated_at`, commits), by `dateOf`. `sorted`: strictly by that date, so the walk stops at the
   * first older item; otherwise (commits, filtered by GitHub's `since` but in the branch's
   * order) older items are skipped. The cursor moves to the newest date once the walk is done;
   * each page before that is committed at `since`.
   */
  async *descending<T>(listing: Listing, since: Date, dateOf: (item: T) => string, signal: AbortSignal, sorted: boolean): AsyncGenerator<T | Date> {
    let newest = since;
    for await (const page of this.pages<T>(listing, signal, true)) {
      let older = false;
      for (const item of page.items) {
        const at = new Date(dateOf(item));
        if (at < since) {
          older = true;
          if (sorted) break;
          continue;
        }
        if (at > newest) newest = at;
        yield item;
      }
      if ((older && sorted) || !page.next) {
        yield newest;
        return;
      }
      yield since;
    }
  }

  /**
   * A backfill over `listings` in turn (issues: open ones, then closed ones), page by page: after
   * each page, where to resume. With `until`, a listing stops at the first item for which it
   * holds; the next page's cursor then waits until that page is read, so a stop at the top of
   * a page ends the backfill without asking for the page again.
   */
  async *backfill<T>(listings: Listing[], page: BackfillPage | undefined, signal: AbortSignal, until?: (item: T) => boolean): AsyncGenerator<T | BackfillPage> {
    const [index, link] = page ?? [0];
    const listing = listings[index]!;
    let pending: BackfillPage | undefined;
    for await (const { items, next } of this.pages<T>(link === undefined ? listing : { ...listing, path: link, query: undefined }, signal)) {
      const stop = until ? items.findIndex(until) : -1;
      if (pending && stop !== 0) yield pending;
      yield* stop < 0 ? items : items.slice(0, stop);
      if (stop >= 0 || !next) break;
      if (until) pending = [index, next];
      else yield [index, next];
    }
    // The next listing starts at the next call; ending without a cursor ends the backfill.
    if (index + 1 < listings.length) yield [index + 1];
  }

  /** The configured repositories, `owner/*` and `owner/prefix*` expanded (once per session). */
  repositories(signal: AbortSignal): Promise<string[]> {
    return (this.repos ??= this.expand(signal));
  }

  private async expand(signal: AbortSignal): Promise<string[]> {
    const found = new Set<string>();
    for (const pattern of this.patterns) {
      const [owner, name] = pattern.split("/") as [string, string];
      if (!name.endsWith("*")) {
        found.add(pattern);
        continue;
      }
      const prefix = name.slice(0, -1).toLowerCase();
      for (const repo of await this.ownerRepositories(owner, signal)) if (repo.name.toLowerCase().startsWith(prefix)) found.add(repo.full_name);
    }
    return [...found];
  }

  /** An organisation's repositories, or (when `owner` is a user) a user's. */
  private async ownerRepositories(owner: string, signal: AbortSignal): Promise<{ name: string; full_name: string }[]> {
    const list = async (path: string) => {
      const repos: { name: string; full_name: string }[] = [];
      for await (const page of this.pages<{ name: string; full_name: string }>({ path, query: { per_page: 100 }, add: {} }, signal)) repos.push(...page.items);
      return repos;
    };
    try {
      return await list(`orgs/${owner}/repos`);
    } catch (error) {
      if (error instanceof HttpStatusError && error.status === 404) return await list(`users/${owner}/repos`);
      throw error;
    }
  }

  /** The branches to read commits on, as `owner/repo:branch` (`owner/repo` alone: its default branch). */
  async commitTargets(signal: AbortSignal): Promise<string[]> {
    const targets: string[] = [];
    for (const repo of await this.repositories(signal)) {
      const named = this.branches.filter((b) => b.startsWith(repo + "/")).map((b) => `${repo}:${b.slice(repo.length + 1)}`);
      targets.push(...(named.length ? named : [repo]));
    }
    return targets;
  }

  /** A repository's default branch (once per session). */
  defaultBranch(repo: string, signal: AbortSignal): Promise<string> {
    let branch = this.defaultBranches.get(repo);
    if (!branch) this.defaultBranches.set(repo, (branch = this.get<{ default_branch: string }>(`repos/${repo}`, signal).then((r) => r.default_branch)));
    return branch;
  }
}
