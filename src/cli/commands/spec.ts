import { runSpec } from "../../host/index.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";

const command = defineCommand(
  {
    name: "spec",
    summary: "print the connector's spec, as `flowctl raw spec` does",
    usage: "flowcap spec --source <flow.yaml> [--capture <name>]",
    options: { ...catalogOptions },
  },
  async ({ values }) => {
    const { capture } = await loadSelectedCapture(values);
    const spec = await runSpec(capture, { logLevel: values["log-level"], onLog: connectorLogPrinter(process.stderr) });
    await new Output().line(JSON.stringify(spec));
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
