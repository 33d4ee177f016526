import { expectTypeOf, test } from "vitest";
import { parseCommandArgs, type OptionSpec } from "./args.js";

test("an option table types its values: strings, flags, repeatable strings; defaults make them present", () => {
  const options = {
    source: { type: "string", value: "<flow.yaml>", description: "" },
    json: { type: "boolean", description: "" },
    env: { type: "string", multiple: true, description: "" },
    trials: { type: "string", default: "4", description: "" },
  } as const satisfies Record<string, OptionSpec>;
  const { values } = parseCommandArgs({ name: "x", summary: "", usage: "", options }, []);
  expectTypeOf(values).toEqualTypeOf<{ source: string | undefined; json: boolean | undefined; env: string[] | undefined; trials: string }>();
});
