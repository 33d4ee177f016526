import { applyRequest, captureSpec, runApply, runValidate, validateRequest } from "../../host/index.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";

const command = defineCommand(
  {
    name: "apply",
    summary: "validate, then apply the capture with its connector; print the applied response",
    usage: "flowcap apply --source <flow.yaml> [--capture <name>]",
    options: { ...catalogOptions },
  },
  async ({ values }) => {
    const { catalog, capture } = await loadSelectedCapture(values);
    const options = { logLevel: values["log-level"], onLog: connectorLogPrinter(process.stderr) };
    const validated = await runValidate(capture, validateRequest(catalog, capture), options);
    const spec = captureSpec(catalog, capture, validated.bindings.map((b) => b.resourcePath));
    const applied = await runApply(capture, applyRequest(spec), options);
    await new Output().line(JSON.stringify(applied));
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
