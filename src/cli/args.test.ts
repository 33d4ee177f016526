import { describe, expect, it } from "vitest";
import { helpText, parseCommandArgs, UsageError, type CommandSpec } from "./args.js";

const spec: CommandSpec = {
  name: "preview",
  summary: "",
  usage: "",
  options: {
    sessions: { type: "string", value: "<N[,M...]>", description: "" },
    "initial-state": { type: "string", description: "" },
    "output-state": { type: "boolean", description: "" },
  },
};

describe("parseCommandArgs", () => {
  it("takes a negative number after a string option as its value, as clap does for flowctl's --sessions -1,-1", () => {
    expect(parseCommandArgs(spec, ["--sessions", "-1,-1"]).values.sessions).toBe("-1,-1");
    expect(parseCommandArgs(spec, ["--sessions", "-1", "--output-state"]).values).toMatchObject({ sessions: "-1", "output-state": true });
    expect(parseCommandArgs(spec, ["--sessions=-1,2"]).values.sessions).toBe("-1,2");
  });

  it("still refuses what is not a value: an option where a value should be, an unknown option", () => {
    expect(() => parseCommandArgs(spec, ["--sessions", "--output-state"])).toThrow(UsageError);
    expect(() => parseCommandArgs(spec, ["--sessions", "-x"])).toThrow(UsageError);
    expect(() => parseCommandArgs(spec, ["--output-state", "-1"])).toThrow(UsageError); // a boolean takes no value
  });
});

describe("a command that wraps a program", () => {
  const shim: CommandSpec = {
    name: "airbyte",
    summary: "run an Airbyte source",
    usage: "flowcap airbyte [options] -- <command> [args...]",
    details: "Runs the source.",
    wraps: { what: "the source", example: "python3 main.py" },
    options: { cwd: { type: "string", value: "DIR", description: "the source's working directory" }, env: { type: "string", multiple: true, value: "NAME=VALUE", description: "a variable" } },
  };

  it("takes the program after --, its options untouched, and its own options before", () => {
    const parsed = parseCommandArgs(shim, ["--cwd", "/tmp", "--env", "A=1", "--env", "B=2", "--", "python3", "main.py", "--cwd", "-h"]);
    expect(parsed).toEqual({ values: { cwd: "/tmp", env: ["A=1", "B=2"] }, positionals: ["python3", "main.py", "--cwd", "-h"], help: false });
  });

  it("refuses a missing program (unless --help is asked for) and positionals before --", () => {
    expect(() => parseCommandArgs(shim, ["--cwd", "/tmp"])).toThrow("give the source's command after --, e.g. flowcap airbyte -- python3 main.py");
    expect(parseCommandArgs(shim, ["--help"]).help).toBe(true);
    expect(() => parseCommandArgs(shim, ["python3", "--", "main.py"])).toThrow(UsageError);
  });

  it("documents itself from the table: usage, details, then each option, long descriptions wrapped under themselves", () => {
    const long = { ...shim, options: { ...shim.options, patches: { type: "string", value: "DIR", description: "an airbyte-to-flow patch set ".repeat(8).trim() } } } satisfies CommandSpec;
    const lines = helpText(long).split("\n");
    expect(lines.slice(0, 6)).toEqual(["flowcap airbyte: run an Airbyte source", "", "Usage: flowcap airbyte [options] -- <command> [args...]", "", "Runs the source.", ""]);
    expect(lines).toContainEqual(expect.stringMatching(/^ {6}--cwd DIR +the source's working directory$/));
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    const patches = lines.findIndex((l) => l.includes("--patches DIR"));
    const column = lines[patches]!.indexOf("an airbyte");
    expect(lines[patches + 1]!.length - lines[patches + 1]!.trimStart().length).toBe(column);
  });
});
