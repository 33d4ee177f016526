/** A CLI command: its one-line summary, and its module, loaded only when the command runs. */
export interface Command {
  summary: string;
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

export const commands = {
  version: { summary: "print flowcap's version", load: () => import("./commands/version.js") },
  airbyte: { summary: "run an Airbyte source as a Flow capture connector: flowcap airbyte [options] -- <command...>", load: () => import("./commands/airbyte.js") },
} satisfies Record<string, Command>;

export type CommandName = keyof typeof commands;
