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

/** A command's options by name (`--name`): the one table that parsing, the values' types and --help come from. */
export type OptionTable = Readonly<Record<string, OptionSpec>>;

/** What one option parses to: a boolean flag, a string, or the strings of a repeatable option. */
type OptionValue<O extends OptionSpec> = O extends { type: "boolean" } ? boolean : O extends { multiple: true } ? string[] : string;

/** The parsed values of a table's options, typed by it: undefined when not given, unless the option has a default. */
export type OptionValues<T extends OptionTable> = { -readonly [K in keyof T]: T[K] extends { default: string | boolean } ? OptionValue<T[K]> : OptionValue<T[K]> | undefined };

/** A command that runs another program (`flowcap airbyte -- python3 main.py`): its command goes after `--`. */
export interface WrappedCommand {
  /** What the program is, for messages: "the source". */
  what: string;
  /** An example command: "python3 main.py". */
  example: string;
}

export interface CommandSpec<T extends OptionTable = OptionTable> {
  name: string;
  summary: string;
  usage: string;
  /** Prose shown in --help between the usage and the options. */
  details?: string;
  options: T;
  /** Accept positionals (after `--` for wrapped commands). */
  positionals?: boolean;
  /** The command wraps a program given after `--` (and takes no other positionals); it is required. */
  wraps?: WrappedCommand;
}

/** True when `value` is one of `choices` (an option whose value is one of a list), narrowed to it. */
export function isOneOf<const C extends string>(choices: readonly C[], value: string): value is C {
  return (choices as readonly string[]).includes(value);
}

/** A command line the CLI cannot run: printed with the command's help, exit 2. */
export class UsageError extends FlowcapError {
  constructor(message: string) {
    super("USAGE_INVALID", message, { userFacing: true });
  }
}

/** Help lines wrap at this width (descriptions continue under themselves). */
const HELP_WIDTH = 100;

/** The command's help text, generated from its option table. */
export function helpText(spec: CommandSpec): string {
  const rows = Object.entries(spec.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}`;
    return [flag, o.description + (o.default !== undefined && o.default !== false ? ` (default: ${String(o.default)})` : "")] as const;
  });
  rows.push(["-h, --help", "show this help"]);
  const width = Math.max(...rows.map(([f]) => f.length));
  const options = rows.flatMap(([f, d]) => wrap(d, HELP_WIDTH - width - 4).map((line, i) => `  ${(i === 0 ? f : "").padEnd(width)}  ${line}`.trimEnd()));
  const details = spec.details ? [...spec.details.split("\n\n").flatMap((paragraph) => [...wrap(paragraph.replace(/\s+/g, " "), HELP_WIDTH), ""])] : [];
  return [`flowcap ${spec.name}: ${spec.summary}`, "", `Usage: ${spec.usage}`, "", ...details, "Options:", ...options, ""].join("\n");
}

/** `text` in lines of at most `width` characters, broken between words (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** A parsed command line: the options' values (typed by the command's table), its positionals (or the wrapped command), and whether --help was asked for. */
export interface ParsedArgs<T extends OptionTable = OptionTable> {
  values: OptionValues<T>;
  positionals: string[];
  help: boolean;
}

/**
 * Parses argv by the command's table; unknown options and missing values are UsageErrors. A
 * command that wraps a program takes it after `--`, and its absence is a UsageError too (unless
 * --help is asked for).
 */
export function parseCommandArgs<T extends OptionTable>(spec: CommandSpec<T>, argv: readonly string[]): ParsedArgs<T> {
  const split = spec.wraps ? argv.indexOf("--") : -1;
  const own = joinNegativeValues(spec, split < 0 ? argv : argv.slice(0, split));
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: own, options, allowPositionals: (spec.positionals ?? false) && !spec.wraps, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[\w+\]: /, ""));
  }
  const { values } = parsed;
  for (const [name, o] of Object.entries(spec.options)) if (values[name] === undefined && o.default !== undefined) values[name] = o.default;
  const help = values.help === true;
  delete values.help;
  let positionals = parsed.positionals;
  if (spec.wraps) {
    positionals = split < 0 ? [] : argv.slice(split + 1);
    if (positionals.length === 0 && !help) throw new UsageError(`give ${spec.wraps.what}'s command after --, e.g. flowcap ${spec.name} -- ${spec.wraps.example}`);
  }
  // parseArgs gives each option the type its table entry declares, which is what OptionValues<T> says.
  return { values: values as OptionValues<T>, positionals, help };
}

/**
 * `--sessions -1,-1` as `--sessions=-1,-1`: a string option's value may be a negative number (or
 * a list starting with one), which node's parseArgs would otherwise take for an option. clap,
 * which parses flowctl's flags, reads it as the value; so do we.
 */
function joinNegativeValues(spec: CommandSpec<OptionTable>, argv: readonly string[]): string[] {
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
