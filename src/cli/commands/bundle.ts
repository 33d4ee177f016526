import { buildExecutable, bundleConnector, formatBundleReport, formatExecutableReport } from "../../tooling/index.js";
import { UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { Output } from "../output.js";

const command = defineCommand(
  {
    name: "bundle",
    summary: "bundle a connector into one self-contained .mjs file that runs with plain node, or (--executable) one file that runs without node",
    usage: "flowcap bundle <entry> [-o <file.mjs>] [--no-minify] [--json]\n       flowcap bundle --executable <entry> | --cli  [-o <file>] [--node <binary>] [--json]",
    positionals: true,
    options: {
      output: { type: "string", short: "o", value: "<file.mjs>", description: "where to write the bundle (default: dist/<connector>.mjs beside the entry)" },
      executable: { type: "boolean", description: "make one executable file with Node inside (a Node single-executable application, ~100 MB, Linux): it runs where no node is installed, such as an Airbyte source's image" },
      cli: { type: "boolean", description: "with --executable: flowcap's own command line (flowcap airbyte, flowcap singer, ...) instead of a connector's entry" },
      node: { type: "string", value: "<binary>", description: "with --executable: the node binary to build from (default: the one running flowcap; Node 20.12 or newer)" },
      "no-minify": { type: "boolean", description: "keep the bundle readable" },
      "no-sourcemap": { type: "boolean", description: "do not write a source map" },
      sourcemap: { type: "boolean", description: "with --executable: embed a source map for stack traces (off by default: it slows every start)" },
      json: { type: "boolean", description: "print the size report as JSON" },
    },
  },
  async ({ values, positionals }) => {
    if (values.executable) {
      if (values.cli ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError("give one entry file, such as connectors/source-x/main.ts, or --cli (flowcap's own command line)");
      const report = await buildExecutable({
        ...(values.cli ? { cli: true } : { entry: positionals[0]! }),
        ...(values.output !== undefined ? { outfile: values.output } : {}),
        ...(values.node !== undefined ? { node: values.node } : {}),
        minify: values["no-minify"] !== true,
        sourcemap: values.sourcemap === true,
      });
      await new Output().line(values.json ? JSON.stringify(report) : formatExecutableReport(report));
      return 0;
    }
    if (values.cli || values.node !== undefined || values.sourcemap) throw new UsageError("--cli, --node and --sourcemap go with --executable");
    if (positionals.length !== 1) throw new UsageError("give exactly one entry file, such as connectors/source-x/main.ts");
    const report = await bundleConnector({
      entry: positionals[0]!,
      ...(values.output !== undefined ? { outfile: values.output } : {}),
      minify: values["no-minify"] !== true,
      sourcemap: values["no-sourcemap"] !== true,
    });
    await new Output().line(values.json ? JSON.stringify(report) : formatBundleReport(report));
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
