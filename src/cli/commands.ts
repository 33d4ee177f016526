/** A CLI command: its one-line summary, and its module, loaded only when the command runs. */
export interface Command {
  summary: string;
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

export const commands = {
  spec: { summary: "print a connector's spec (flowctl raw spec)", load: () => import("./commands/spec.js") },
  discover: { summary: "discover bindings and update the catalog, or print them (flowctl raw discover)", load: () => import("./commands/discover.js") },
  validate: { summary: "validate a capture's config and bindings with its connector", load: () => import("./commands/validate.js") },
  apply: { summary: "validate and apply a capture with its connector", load: () => import("./commands/apply.js") },
  preview: { summary: "run a capture locally and print its documents (flowctl preview)", load: () => import("./commands/preview.js") },
  check: { summary: "run the protocol conformance suite against a connector", load: () => import("./commands/check.js") },
  oauth: { summary: "run a connector's OAuth2 flow locally (--dry-run: print its requests); oauth lint: check its templates", load: () => import("./commands/oauth.js") },
  bundle: { summary: "bundle a connector into one .mjs file for plain node (esbuild)", load: () => import("./commands/bundle.js") },
  image: { summary: "print a Dockerfile putting flowcap (one executable) in front of an Airbyte image or a pip-installed source or tap", load: () => import("./commands/image.js") },
  scaffold: { summary: "create a new connector from a template (native, http, airbyte, singer)", load: () => import("./commands/scaffold.js") },
  version: { summary: "print flowcap's version", load: () => import("./commands/version.js") },
  airbyte: { summary: "run an Airbyte source as a Flow capture connector: flowcap airbyte [options] -- <command...>", load: () => import("./commands/airbyte.js") },
  singer: { summary: "run a Singer tap as a Flow capture connector: flowcap singer [options] -- <command...>", load: () => import("./commands/singer.js") },
} satisfies Record<string, Command>;

export type CommandName = keyof typeof commands;
