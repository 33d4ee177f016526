import { readFileSync } from "node:fs";
import { commands, type CommandName } from "./commands.js";

function version(): string {
  // A single executable has no package.json beside it: `bundle --executable --cli` defines the version.
  const embedded = process.env.FLOWCAP_EMBEDDED_VERSION;
  if (embedded) return embedded;
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    "flowcap: build, wrap and test capture connectors for Estuary Flow",
    "",
    "Usage: flowcap <command> [options]",
    "",
    "Commands:",
    ...lines,
    "",
    "Options:",
    "  -h, --help     show help (also: flowcap <command> --help)",
    "  -v, --version  show the version",
    "",
  ].join("\n");
}

/** Parses argv, runs the command, and returns the exit code. Only the CLI prints for people. */
export async function runCli(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    // No command is a usage error: the usage goes where errors go, with exit 2.
    process.stderr.write(usage());
    return 2;
  }
  if (first === "-h" || first === "--help" || first === "help") {
    process.stdout.write(usage());
    return 0;
  }
  if (first === "-v" || first === "--version") {
    process.stdout.write(version() + "\n");
    return 0;
  }
  const command = commands[first as CommandName];
  if (!command) {
    process.stderr.write(`flowcap: unknown command ${JSON.stringify(first)}\n\n${usage()}`);
    return 2;
  }
  const module = await command.load();
  return module.run(rest);
}
