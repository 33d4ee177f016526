import { parseArgs } from "node:util";
import { FlowcapError } from "../util/errors.js";

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

/** A command line the CLI cannot run: printed with the command's help, exit 2. */
export class UsageError extends FlowcapError {
  constructor(message: string) {
    super("USAGE_INVALID", message, { userFacing: true });
  }
}

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
  argv = joinNegativeValues(spec, argv);
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

/**
 * `--sessions -1,-1` as `--sessions=-1,-1`: a string option's value may be a negative number (or
 * a list starting with one), which node's parseArgs would otherwise take for an option. clap,
 * which parses flowctl's flags, reads it as the value; so do we.
 */
function joinNegativeValues(spec: CommandSpec, argv: readonly string[]): string[] {
  const takesValue = new Set<string>();
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.type !== "string") continue;
    takesValue.add(`--${name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      out.push(...argv.slice(i));
      break;
    }
    const next = argv[i + 1];
    if (takesValue.has(arg) && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}
