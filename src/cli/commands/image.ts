import { writeFile } from "node:fs/promises";
import { imageDockerfile } from "../../tooling/index.js";
import { isOneOf, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { Output } from "../output.js";

const command = defineCommand(
  {
    name: "image",
    summary: "print a Dockerfile that puts flowcap (one executable) in front of an Airbyte source image or a pip-installed source or tap",
    usage: "flowcap image --from <image> | --pip <requirement>  [--kind airbyte|singer] [--patches <dir>] [-o <Dockerfile>] [-- <source command...>]",
    positionals: true,
    options: {
      from: { type: "string", value: "<image>", description: "the source's image, such as airbyte/source-hubspot:0.6.0 (its command defaults to python /airbyte/integration_code/main.py)" },
      pip: { type: "string", value: "<requirement>", description: "a pip requirement to install on python:3.12-slim instead (give its command after --)" },
      kind: { type: "string", value: "airbyte|singer", description: "the wrapped program's protocol (default airbyte)" },
      patches: { type: "string", value: "<dir>", description: "an airbyte-to-flow patch set in the build context, copied to /flowcap/patches and passed as --patches" },
      executable: { type: "string", value: "<file>", description: "a prebuilt `flowcap bundle --executable --cli` in the build context (default: a build stage makes it from the context, a flowcap checkout or a package that installs flowcap)" },
      "shim-arg": { type: "string", multiple: true, value: "<arg>", description: "an option for the shim, before -- (repeatable), such as --shim-arg=--legacy-state --shim-arg=message" },
      name: { type: "string", value: "<title>", description: "the image's org.opencontainers.image.title label" },
      "usage-rate": { type: "string", value: "<rate>", description: "the dev.estuary.usage-rate label (default 1.0)" },
      output: { type: "string", short: "o", value: "<file>", description: "write the Dockerfile there instead of printing it" },
    },
  },
  async ({ values, positionals }) => {
    const kind = values.kind ?? "airbyte";
    if (!isOneOf(["airbyte", "singer"], kind)) throw new UsageError(`--kind is airbyte or singer, not ${JSON.stringify(kind)}`);
    const text = imageDockerfile({
      kind,
      ...(values.from !== undefined ? { from: values.from } : {}),
      ...(values.pip !== undefined ? { pip: values.pip } : {}),
      ...(positionals.length ? { command: positionals } : {}),
      ...(values.patches !== undefined ? { patches: values.patches } : {}),
      ...(values.executable !== undefined ? { executable: values.executable } : {}),
      ...(values["shim-arg"] !== undefined ? { shimArgs: values["shim-arg"] } : {}),
      ...(values.name !== undefined ? { name: values.name } : {}),
      ...(values["usage-rate"] !== undefined ? { usageRate: values["usage-rate"] } : {}),
    });
    if (values.output !== undefined) await writeFile(values.output, text);
    else await new Output().line(text.trimEnd());
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
