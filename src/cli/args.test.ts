import { describe, expect, it } from "vitest";
import { parseCommandArgs, UsageError, type CommandSpec } from "./args.js";

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
