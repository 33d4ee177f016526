import { ConfigError, defineConnector, HttpStatusError } from "flowcap";
import { GitHub } from "./api.js";
import { configSchema, oauth } from "./models.js";
import { resources } from "./resources.js";

/**
 * source-github: the repositories, issues, pull requests, comments, labels, releases and commits
 * of GitHub repositories, with the config of Airbyte's source-github.
 */
export const connector = defineConnector({
  documentationUrl: "https://github.com/flowcap/flowcap/tree/main/connectors/source-github",
  config: configSchema,
  oauth2: oauth.oauth2,
  resources: (config, ctx) => resources(new GitHub(config, ctx.log, ctx.signal)),

  /** Signs in and reads each configured repository (and lists each `owner/*`), naming any that fails. */
  async check(config, ctx) {
    const api = new GitHub(config, ctx.log, ctx.signal);
    const problems: { path: string; message: string }[] = [];
    const repos = await api.repositories(ctx.signal).catch((error: unknown) => {
      problems.push({ path: "repositories", message: describe(error) });
      return [];
    });
    await Promise.all(repos.map((repo) => api.get(`repos/${repo}`, ctx.signal).catch((error: unknown) => problems.push({ path: "repositories", message: `${repo}: ${describe(error)}` }))));
    if (!problems.length && !repos.length) problems.push({ path: "repositories", message: "match no repository" });
    if (problems.length) throw new ConfigError(problems);
  },
});

function describe(error: unknown): string {
  if (!(error instanceof HttpStatusError)) throw error;
  if (error.status === 401) return "GitHub refused the credentials (HTTP 401): check the token";
  if (error.status === 404) return "not found, or not visible with these credentials (HTTP 404)";
  return error.message;
}
