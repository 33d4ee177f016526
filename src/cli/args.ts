import { parseArgs } from "node:util";

/** One option of a command: its parseArgs type, value name, and help text. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** For string options: how the value is named in help (`<file>`). */
  value?: string;
  description: string;
  default?: string | boolean;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  /** Accept positionals (after `--` for wrapped commands). */
  positionals?: boolean;
}

/** A usage error: printed with the command's help, exit 2. */
export class UsageError extends Error {}

/** The command's help text, generated from its option table. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}`;
    return [flag, o.description + (o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "")] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [`flowcap ${spec.name}: ${spec.summary}`, "", `Usage: ${spec.usage}`, "", "Options:", ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`), ""].join("\n");
}

export type ParsedArgs = { values: Record<string, string | boolean | string[] | undefined>; positionals: string[]; help: boolean };

/** Parses argv by the command's table; unknown options and missing values are UsageErrors. */
export function parseCommandArgs(spec: CommandSpec, argv: string[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: spec.positionals ?? false, strict: true });
    for (const [name, o] of Object.entries(spec.options)) if (values[name] === undefined && o.default !== undefined) (values as Record<string, unknown>)[name] = o.default;
    return { values: values as ParsedArgs["values"], positionals, help: values.help === true };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[\w+\]: /, ""));
  }
}
