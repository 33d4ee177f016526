import { createHash } from "node:crypto";
import { startHttpFixtureServer, type FixtureRequest, type FixtureResponse, type HttpFixtureServer, type HttpFixtureServerOptions } from "flowcap/testing";

/**
 * GitHub's REST API as the connector uses it, on the testing kit's loopback server, for what the
 * recordings do not cover (polls, `since`, updates, rate limits, failures): listings filtered,
 * sorted and paginated the way GitHub's documentation says (`state`, `sort`, `direction`, `since`,
 * `until`, `sha`, `per_page` and `page` with `Link` headers), ETags with 304s, and a request log.
 */
export interface FakeRepository {
  id: number;
  default_branch?: string;
  issues?: Item[];
  pulls?: Item[];
  comments?: Item[];
  labels?: Item[];
  releases?: Item[];
  /** Commits per branch, newest first, each with `commit.committer.date`. */
  commits?: Record<string, Item[]>;
  /** Answer this status for the listing instead (409: an empty repository, 410: disabled issues). */
  fail?: Partial<Record<"issues" | "commits", number>>;
}

export type Item = Record<string, unknown> & { id?: number };

export interface FakeGitHub {
  server: HttpFixtureServer;
  url: string;
  repos: Record<string, FakeRepository>;
  /** Organisations and the repositories (full names) they list. */
  orgs: Record<string, string[]>;
  /** Requests to a listing (`/repos/o/r/issues`), with their query and the status answered. */
  listed(path: string): { query: Record<string, string>; status: number; conditional: boolean }[];
  /** The most requests the server had in hand at once. */
  readonly maxInFlight: number;
  /** Resolves at the next 304 answered for `path`. */
  notModified(path: string): Promise<void>;
  close(): Promise<void>;
}

const time = (item: Item, field: string) => Date.parse(String(item[field]));

export async function startFakeGitHub(repos: Record<string, FakeRepository>, options: HttpFixtureServerOptions & { orgs?: Record<string, string[]>; delayMs?: number } = {}): Promise<FakeGitHub> {
  const server = await startHttpFixtureServer(options);
  const orgs = options.orgs ?? {};
  let inFlight = 0;
  let maxInFlight = 0;
  const waiters: { path: string; resolve: () => void }[] = [];
  /** A GET route that holds each request `delayMs` (counting those in hand), as a slow API does. */
  const get = (path: string, handler: (req: FixtureRequest) => FixtureResponse): HttpFixtureServer =>
    server.route("GET", path, async (req) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
        const answered = handler(req);
        if (answered.status === 304) {
          for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.path === req.path) waiters.splice(i, 1)[0]!.resolve();
        }
        return answered;
      } finally {
        inFlight--;
      }
    });

  /** Answers `items` as GitHub does: a page of the array, a Link header, an ETag (304 when it matches). */
  const answer = (req: FixtureRequest, items: Item[], defaultPerPage = 30): FixtureResponse => {
    const perPage = Math.min(100, Number(req.query.get("per_page") ?? defaultPerPage));
    const page = Number(req.query.get("page") ?? 1);
    const body = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    const last = Math.ceil(items.length / perPage);
    if (page < last) {
      const next = new URLSearchParams(req.query);
      next.set("page", String(page + 1));
      headers.link = `<${server.url}${req.path}?${next}>; rel="next", <${server.url}${req.path}?${new URLSearchParams({ ...Object.fromEntries(next), page: String(last) })}>; rel="last"`;
    }
    return etagged(req, body, headers);
  };
  const etagged = (req: FixtureRequest, body: unknown, headers: Record<string, string> = {}): FixtureResponse => {
    const etag = `"${createHash("sha1").update(JSON.stringify(body)).digest("hex")}"`;
    if (req.headers["if-none-match"] === etag) return { status: 304, headers: { etag } };
    return { json: body, headers: { ...headers, etag } };
  };
  const repo = (req: FixtureRequest) => repos[`${req.params.owner}/${req.params.repo}`];
  const notFound: FixtureResponse = { status: 404, json: { message: "Not Found" } };

  /** `sort` (created, updated) and `direction`, as GitHub orders a listing. */
  const sorted = (items: Item[], req: FixtureRequest, defaults: { sort: string; direction: string }) => {
    const field = `${req.query.get("sort") ?? defaults.sort}_at`;
    const sign = (req.query.get("direction") ?? (req.query.has("sort") ? "desc" : defaults.direction)) === "asc" ? 1 : -1;
    return [...items].sort((a, b) => sign * (time(a, field) - time(b, field)) || sign * ((a.id ?? 0) - (b.id ?? 0)));
  };
  const since = (items: Item[], req: FixtureRequest) => {
    const from = req.query.get("since");
    return from ? items.filter((i) => time(i, "updated_at") >= Date.parse(from)) : items;
  };
  const state = (items: Item[], req: FixtureRequest) => {
    const wanted = req.query.get("state") ?? "open";
    return wanted === "all" ? items : items.filter((i) => i.state === wanted);
  };

  get("/repos/:owner/:repo", (req) => {
    const r = repo(req);
    return r ? etagged(req, { id: r.id, full_name: `${req.params.owner}/${req.params.repo}`, name: req.params.repo, default_branch: r.default_branch ?? "main" }) : notFound;
  });
  get("/repos/:owner/:repo/issues", (req) => {
    const r = repo(req);
    if (!r) return notFound;
    if (r.fail?.issues) return { status: r.fail.issues, json: { message: "Issues are disabled for this repo" } };
    return answer(req, sorted(since(state(r.issues ?? [], req), req), req, { sort: "created", direction: "desc" }));
  });
  get("/repos/:owner/:repo/pulls", (req) => {
    const r = repo(req);
    return r ? answer(req, sorted(state(r.pulls ?? [], req), req, { sort: "created", direction: "desc" })) : notFound;
  });
  get("/repos/:owner/:repo/issues/comments", (req) => {
    const r = repo(req);
    return r ? answer(req, sorted(since(r.comments ?? [], req), req, { sort: "created", direction: "asc" })) : notFound;
  });
  get("/repos/:owner/:repo/labels", (req) => {
    const r = repo(req);
    return r ? answer(req, r.labels ?? []) : notFound;
  });
  get("/repos/:owner/:repo/releases", (req) => {
    const r = repo(req);
    return r ? answer(req, sorted(r.releases ?? [], req, { sort: "created", direction: "desc" })) : notFound;
  });
  get("/repos/:owner/:repo/commits", (req) => {
    const r = repo(req);
    if (!r) return notFound;
    if (r.fail?.commits) return { status: r.fail.commits, json: { message: "Git Repository is empty." } };
    const branch = req.query.get("sha") ?? r.default_branch ?? "main";
    const date = (c: Item) => Date.parse((c.commit as { committer: { date: string } }).committer.date);
    const from = req.query.get("since");
    const until = req.query.get("until");
    const commits = (r.commits?.[branch] ?? []).filter((c) => (!from || date(c) >= Date.parse(from)) && (!until || date(c) <= Date.parse(until)));
    return answer(req, commits);
  });
  const ownerRepos = (kind: "orgs" | "users") => (req: FixtureRequest) => {
    const names = kind === "orgs" ? orgs[req.params.owner!] : Object.keys(repos).filter((r) => r.startsWith(`${req.params.owner}/`) && !orgs[req.params.owner!]);
    if (!names) return notFound;
    return answer(req, names.map((full) => ({ id: repos[full]?.id, full_name: full, name: full.split("/")[1] })));
  };
  get("/orgs/:owner/repos", ownerRepos("orgs"));
  get("/users/:owner/repos", ownerRepos("users"));

  return {
    server,
    url: server.url,
    repos,
    orgs,
    listed: (path) => server.requestsTo(path, "GET").map((r) => ({ query: r.query, status: r.status, conditional: r.headers["if-none-match"] !== undefined })),
    get maxInFlight() {
      return maxInFlight;
    },
    notModified: (path) => new Promise<void>((resolve) => waiters.push({ path, resolve })),
    close: () => server.close(),
  };
}

/** An issue (or pull request, comment) updated at `updated`, created at `created` (default: the same). */
export function item(id: number, updated: string, extra: Record<string, unknown> = {}): Item {
  return { id, number: id, node_id: `N${id}`, title: `Item ${id}`, state: "open", created_at: updated, updated_at: updated, ...extra };
}

/** A commit on a branch at `date` (author and committer). */
export function commit(sha: string, date: string): Item {
  return { sha, node_id: `C${sha}`, commit: { message: `commit ${sha}`, author: { name: "a", email: "a@example.com", date }, committer: { name: "a", email: "a@example.com", date } }, parents: [] };
}
