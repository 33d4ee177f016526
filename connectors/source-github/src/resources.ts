import { defineIncrementalResource, defineSnapshotResource, type FromSchema, type OpenContext } from "flowcap";
import { iso, type BackfillPage, type GitHub, type Listing } from "./api.js";
import { commitSchema, issueCommentSchema, issueSchema, labelSchema, pullRequestSchema, releaseSchema, repositorySchema } from "./models.js";

type Issue = FromSchema<typeof issueSchema>;
type PullRequest = FromSchema<typeof pullRequestSchema>;
type Comment = FromSchema<typeof issueCommentSchema>;
type Commit = FromSchema<typeof commitSchema>;

/**
 * The resources, each a subtask per repository (commits: per branch). Incremental ones start at
 * the first open (to the second) and backfill what came before it, from `start_date` if set.
 */
export function resources(api: GitHub) {
  const n = api.pageSize;
  const start = api.startDate;
  const since = start && iso(start);
  const repos = (ctx: OpenContext) => api.repositories(ctx.stopping);
  const listing = (ctx: OpenContext, path: string, query?: Listing["query"]): Listing => ({ path: `repos/${ctx.subtask}/${path}`, query, add: { repository: ctx.subtask } });
  const initialCursor = () => new Date(Math.floor(Date.now() / 1000) * 1000);

  return [
    defineSnapshotResource({
      name: "repositories",
      key: ["/id"],
      schema: repositorySchema,
      interval: "PT1H",
      subtasks: repos,
      async *fetchSnapshot(ctx) {
        yield await api.get<FromSchema<typeof repositorySchema>>(`repos/${ctx.subtask}`, ctx.stopping);
      },
    }),

    defineIncrementalResource({
      name: "issues",
      key: ["/id"],
      schema: issueSchema,
      cursorField: "/updated_at",
      subtasks: repos,
      initialCursor,

      fetchChanges: (cursor, ctx) => api.ascending<Issue>(listing(ctx, "issues", { state: "all" }), cursor, ctx.stopping),
      // GitHub's default listing (open issues, newest first), then the closed ones.
      fetchPage: (page: BackfillPage | undefined, _cutoff, ctx) =>
        api.backfill<Issue>([listing(ctx, "issues", { per_page: n, since }), listing(ctx, "issues", { state: "closed", per_page: n, since })], page, ctx.stopping),
    }),

    defineIncrementalResource({
      name: "pull_requests",
      key: ["/id"],
      schema: pullRequestSchema,
      cursorField: "/updated_at",
      subtasks: repos,
      initialCursor,

      // GitHub lists pull requests without `since`: newest updates first, down to the cursor.
      fetchChanges: (cursor, ctx) =>
        api.descending<PullRequest>(listing(ctx, "pulls", { state: "all", sort: "updated", direction: "desc", per_page: n }), cursor, (pr) => pr.updated_at, ctx.stopping, true),
      fetchPage: (page: BackfillPage | undefined, _cutoff, ctx) =>
        api.backfill<PullRequest>([listing(ctx, "pulls", { state: "all", sort: "updated", direction: "desc", per_page: n })], page, ctx.stopping, (pr) => !!start && new Date(pr.updated_at) < start),
    }),

    defineIncrementalResource({
      name: "issue_comments",
      key: ["/id"],
      schema: issueCommentSchema,
      cursorField: "/updated_at",
      subtasks: repos,
      initialCursor,

      fetchChanges: (cursor, ctx) => api.ascending<Comment>(listing(ctx, "issues/comments"), cursor, ctx.stopping),
      fetchPage: (page: BackfillPage | undefined, _cutoff, ctx) =>
        api.backfill<Comment>([listing(ctx, "issues/comments", { sort: "updated", direction: "desc", per_page: n, since })], page, ctx.stopping),
    }),

    defineSnapshotResource({
      name: "labels",
      key: ["/id"],
      schema: labelSchema,
      interval: "PT1H",
      subtasks: repos,
      async *fetchSnapshot(ctx) {
        // GitHub's default page size: a repository's labels rarely fill one page.
        for await (const page of api.pages<FromSchema<typeof labelSchema>>(listing(ctx, "labels"), ctx.stopping, true)) yield* page.items;
      },
    }),

    defineSnapshotResource({
      name: "releases",
      key: ["/id"],
      schema: releaseSchema,
      interval: "PT15M",
      subtasks: repos,
      async *fetchSnapshot(ctx) {
        for await (const page of api.pages<FromSchema<typeof releaseSchema>>(listing(ctx, "releases", { per_page: n }), ctx.stopping, true)) yield* page.items;
      },
    }),

    defineIncrementalResource({
      name: "commits",
      key: ["/repository", "/sha"],
      schema: commitSchema,
      cursorField: "/commit/committer/date",
      subtasks: (ctx) => api.commitTargets(ctx.stopping),
      initialCursor,

      async *fetchChanges(cursor, ctx) {
        const target = await commits(ctx, { since: iso(cursor) });
        yield* api.descending<Commit>(target, cursor, (c) => c.commit.committer.date, ctx.stopping, false);
      },
      async *fetchPage(page: BackfillPage | undefined, cutoff, ctx) {
        yield* api.backfill<Commit>([await commits(ctx, { since, until: iso(cutoff) })], page, ctx.stopping);
      },
    }),
  ];

  /** The commits of a subtask's branch (`owner/repo:branch`, or the default branch of `owner/repo`). */
  async function commits(ctx: OpenContext, query: Listing["query"]): Promise<Listing> {
    const [repo, branch] = ctx.subtask!.split(":") as [string, string | undefined];
    const name = branch ?? (await api.defaultBranch(repo, ctx.stopping));
    return { path: `repos/${repo}/commits`, query: { sha: branch, ...query, per_page: n }, add: { repository: repo, branch: name } };
  }
}
