/** A CLI command: its one-line summary, and its module, loaded only when the command runs. */
export interface Command {
  summary: string;
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

export const commands = {
  version: { summary: "print flowcap's version", load: () => import("./commands/version.js") },
} satisfies Record<string, Command>;

export type CommandName = keyof typeof commands;
