import { bundleConnector, formatBundleReport } from "../../tooling/index.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { Output } from "../output.js";

const command = defineCommand(
  {
    name: "bundle",
    summary: "bundle a connector into one self-contained .mjs file that runs with plain node",
    usage: "flowcap bundle <entry> [-o <file.mjs>] [--no-minify] [--json]",
    positionals: true,
    options: {
      output: { type: "string", short: "o", value: "<file.mjs>", description: "where to write the bundle (default: dist/<connector>.mjs beside the entry)" },
      "no-minify": { type: "boolean", description: "keep the bundle readable" },
      "no-sourcemap": { type: "boolean", description: "do not write a source map" },
      json: { type: "boolean", description: "print the size report as JSON" },
    },
  },
  async ({ values, positionals }) => {
    if (positionals.length !== 1) throw new UsageError("give exactly one entry file, such as connectors/source-x/main.ts");
    const report = await bundleConnector({
      entry: positionals[0]!,
      ...(typeof values.output === "string" ? { outfile: values.output } : {}),
      minify: values["no-minify"] !== true,
      sourcemap: values["no-sourcemap"] !== true,
    });
    await new Output().line(values.json ? JSON.stringify(report) : formatBundleReport(report));
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
