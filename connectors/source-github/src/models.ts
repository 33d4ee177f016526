import type { FromSchema } from "flowcap";
import { github } from "flowcap/oauth";

/** Flow's sign-in with GitHub (our preset): `repo` reads private repositories, `read:org` lists an organisation's. */
export const oauth = github({ scopes: ["repo", "read:org"] });

/**
 * The endpoint config: Airbyte's source-github config (and Estuary's, which kept its older
 * `repository`/`branch` strings and `page_size_for_large_streams`), so a migrating user's config
 * works as it is. Unknown keys are accepted, as Airbyte's spec accepts them.
 */
export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "GitHub Source Spec",
  type: "object",
  properties: {
    credentials: {
      title: "Authentication",
      description: "Choose how to authenticate to GitHub",
      type: "object",
      order: 0,
      discriminator: { propertyName: "option_title" },
      oneOf: [
        {
          type: "object",
          title: "OAuth",
          "x-oauth2-provider": "github",
          properties: {
            option_title: { type: "string", const: "OAuth Credentials", default: "OAuth Credentials", order: 0 },
            access_token: { type: "string", title: "Access Token", description: "OAuth access token", secret: true },
            client_id: { type: "string", title: "Client Id", description: "OAuth Client Id", secret: true },
            client_secret: { type: "string", title: "Client secret", description: "OAuth Client secret", secret: true },
          },
          required: ["access_token"],
        },
        {
          type: "object",
          title: "Personal Access Token",
          properties: {
            option_title: { type: "string", const: "PAT Credentials", default: "PAT Credentials", order: 0 },
            personal_access_token: {
              type: "string",
              title: "Personal Access Tokens",
              description: 'A personal access token (https://github.com/settings/tokens). Several tokens separated by "," are used in turn.',
              secret: true,
            },
          },
          required: ["personal_access_token"],
        },
      ],
    },
    repositories: {
      type: "array",
      title: "GitHub Repositories",
      description: "Repositories as owner/repo; owner/* for every repository of an organisation or user, owner/a* for those whose name starts with a.",
      items: { type: "string", pattern: "^[\\w.-]+/(([\\w.-]*\\*)|[\\w.-]+(?<!\\.git))$" },
      minItems: 1,
      examples: ["estuary/flow", "estuary/*"],
      order: 1,
    },
    start_date: {
      type: "string",
      title: "Start date",
      description: "Capture only what was created or updated at or after this time (YYYY-MM-DDTHH:mm:ssZ). Empty: everything.",
      format: "date-time",
      pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
      examples: ["2021-03-01T00:00:00Z"],
      order: 2,
    },
    api_url: {
      type: "string",
      title: "API URL",
      description: "The REST API's URL: https://api.github.com/, or your GitHub Enterprise Server's (https://github.example.com, to which /api/v3/ is added).",
      default: "https://api.github.com/",
      order: 3,
    },
    branches: {
      type: "array",
      title: "Branches",
      description: "Branches to capture commits of, as owner/repo/branch; a repository with none listed is read on its default branch.",
      items: { type: "string" },
      order: 4,
    },
    page_size_for_large_streams: {
      type: "integer",
      title: "Page size",
      description: "Records per request (GitHub's per_page) for issues, pull requests, comments, releases and commits. Lower it if GitHub times out on large pages.",
      minimum: 1,
      maximum: 100,
      default: 100,
      order: 5,
    },
    max_waiting_time: {
      type: "integer",
      title: "Max Waiting Time (in minutes)",
      description: "The longest the capture pauses when GitHub's rate limit is spent, before it asks again.",
      minimum: 1,
      maximum: 60,
      default: 60,
      order: 6,
    },
    max_concurrent_requests: {
      type: "integer",
      title: "Concurrent requests",
      description: "Requests in flight at once, across repositories (GitHub's secondary limits punish many).",
      minimum: 1,
      maximum: 50,
      default: 4,
      order: 7,
    },
    repository: { type: "string", title: "GitHub Repositories (deprecated)", description: "Space-separated owner/repo list; use repositories.", airbyte_hidden: true },
    branch: { type: "string", title: "Branch (deprecated)", description: "Space-separated owner/repo/branch list; use branches.", airbyte_hidden: true },
  },
  required: ["credentials"],
} as const;

export type Config = FromSchema<typeof configSchema>;

// The shapes of GitHub's documented REST payloads (docs.github.com/rest), the fields a user
// queries; the rest of each payload is kept as GitHub sends it.
const str = { type: "string" } as const;
const strOrNull = { type: ["string", "null"] } as const;
const int = { type: "integer" } as const;
const bool = { type: "boolean" } as const;
const dateTime = { type: "string", format: "date-time" } as const;
const dateTimeOrNull = { type: ["string", "null"], format: "date-time" } as const;
const repository = { type: "string", description: "The repository, as owner/repo." } as const;
/** `simple-user`. */
const user = {
  type: ["object", "null"],
  properties: { login: str, id: int, node_id: str, type: str, site_admin: bool, html_url: str, avatar_url: str },
} as const;
const users = { type: ["array", "null"], items: user } as const;
const gitRef = { type: "object", properties: { label: str, ref: str, sha: str } } as const;
const gitActor = { type: ["object", "null"], properties: { name: strOrNull, email: strOrNull, date: dateTime } } as const;

/** `full-repository` (GET /repos/{owner}/{repo}). */
export const repositorySchema = {
  type: "object",
  properties: {
    id: int, node_id: str, name: str, full_name: str, owner: user, private: bool, fork: bool, archived: bool, disabled: bool,
    visibility: str, description: strOrNull, homepage: strOrNull, language: strOrNull, topics: { type: "array", items: str },
    default_branch: str, size: int, stargazers_count: int, watchers_count: int, forks_count: int, open_issues_count: int,
    html_url: str, url: str, created_at: dateTime, updated_at: dateTime, pushed_at: dateTimeOrNull,
  },
  required: ["id", "full_name"],
} as const;

/** `issue` (GET /repos/{owner}/{repo}/issues); pull requests appear among issues with `pull_request` set. */
export const issueSchema = {
  type: "object",
  properties: {
    repository, id: int, node_id: str, number: int, title: str, body: strOrNull, state: str, state_reason: strOrNull, locked: bool,
    user, assignee: user, assignees: users, labels: { type: "array" }, milestone: { type: ["object", "null"] }, comments: int,
    author_association: str, pull_request: { type: "object", description: "Present when the issue is a pull request." },
    html_url: str, url: str, created_at: dateTime, updated_at: dateTime, closed_at: dateTimeOrNull,
  },
  required: ["repository", "id", "number", "updated_at"],
} as const;

/** `pull-request-simple` (GET /repos/{owner}/{repo}/pulls). */
export const pullRequestSchema = {
  type: "object",
  properties: {
    repository, id: int, node_id: str, number: int, title: str, body: strOrNull, state: str, locked: bool, draft: bool,
    user, assignee: user, assignees: users, requested_reviewers: users, labels: { type: "array" }, milestone: { type: ["object", "null"] },
    head: gitRef, base: gitRef, merge_commit_sha: strOrNull, author_association: str,
    html_url: str, url: str, created_at: dateTime, updated_at: dateTime, closed_at: dateTimeOrNull, merged_at: dateTimeOrNull,
  },
  required: ["repository", "id", "number", "updated_at"],
} as const;

/** `issue-comment` (GET /repos/{owner}/{repo}/issues/comments): comments on issues and pull requests. */
export const issueCommentSchema = {
  type: "object",
  properties: { repository, id: int, node_id: str, body: str, user, author_association: str, issue_url: str, html_url: str, url: str, created_at: dateTime, updated_at: dateTime },
  required: ["repository", "id", "updated_at"],
} as const;

/** `label` (GET /repos/{owner}/{repo}/labels). */
export const labelSchema = {
  type: "object",
  properties: { repository, id: int, node_id: str, name: str, color: str, description: strOrNull, default: bool, url: str },
  required: ["repository", "id", "name"],
} as const;

/** `release` (GET /repos/{owner}/{repo}/releases). */
export const releaseSchema = {
  type: "object",
  properties: {
    repository, id: int, node_id: str, tag_name: str, target_commitish: str, name: strOrNull, body: strOrNull, draft: bool, prerelease: bool,
    author: user, assets: { type: "array" }, html_url: str, url: str, created_at: dateTime, published_at: dateTimeOrNull,
  },
  required: ["repository", "id", "tag_name"],
} as const;

/** `commit` (GET /repos/{owner}/{repo}/commits), with the branch it was read on. */
export const commitSchema = {
  type: "object",
  properties: {
    repository, branch: { type: "string", description: "The branch the commit was read on." },
    created_at: { ...dateTime, description: "The commit's author date (as Airbyte's source-github)." },
    sha: str, node_id: str, html_url: str, url: str, author: user, committer: user,
    commit: {
      type: "object",
      properties: { message: str, author: gitActor, committer: { ...gitActor, type: "object", required: ["date"] }, comment_count: int, tree: { type: "object", properties: { sha: str } } },
      required: ["committer"],
    },
    parents: { type: "array", items: { type: "object", properties: { sha: str } } },
  },
  required: ["repository", "branch", "sha", "commit"],
} as const;
