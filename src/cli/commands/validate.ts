import { runValidate, validateRequest } from "../../host/index.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";

const command = defineCommand(
  {
    name: "validate",
    summary: "validate the capture's config and bindings with its connector; print the validated bindings",
    usage: "flowcap validate --source <flow.yaml> [--capture <name>]",
    options: { ...catalogOptions },
  },
  async ({ values }) => {
    const { catalog, capture } = await loadSelectedCapture(values);
    const validated = await runValidate(capture, validateRequest(catalog, capture), { logLevel: values["log-level"], onLog: connectorLogPrinter(process.stderr) });
    const out = new Output();
    for (const binding of validated.bindings) await out.line(JSON.stringify(binding));
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
