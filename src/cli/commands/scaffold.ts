import path from "node:path";
// scaffold.js, not the tooling index: the index also holds bundle, and scaffolding must not depend
// on anything only bundling needs (esbuild).
import { scaffoldConnector, SCAFFOLD_AUTHS, SCAFFOLD_TEMPLATES } from "../../tooling/scaffold.js";
import { isOneOf, UsageError } from "../args.js";
import { defineCommand } from "../command.js";

const command = defineCommand(
  {
    name: "scaffold",
    summary: "create a new connector: typed config, one resource, README, test.flow.yaml, tests and a bundle script",
    usage: `flowcap scaffold <name> [--template ${SCAFFOLD_TEMPLATES.join("|")}] [--auth ${SCAFFOLD_AUTHS.join("|")}] [--dir <path>] [--resource <name>] [--flowcap <spec>]`,
    positionals: true,
    options: {
      template: { type: "string", short: "t", value: "<template>", description: `the starting point: ${SCAFFOLD_TEMPLATES.join(", ")}`, default: "native" },
      auth: { type: "string", value: "<auth>", description: `the http template's authentication: ${SCAFFOLD_AUTHS.join(", ")} (default api-key)` },
      dir: { type: "string", value: "<path>", description: "where to create it (default: connectors/<name>)" },
      resource: { type: "string", value: "<name>", description: "the name of its one resource" },
      flowcap: { type: "string", value: "<spec>", description: "the npm spec of its flowcap dependency (default: this flowcap: file:<relative path> to a checkout or tarball, ^<version> from a registry)" },
    },
  },
  async ({ values, positionals }) => {
    if (positionals.length !== 1) throw new UsageError("give the connector's name, such as source-acme");
    const template = values.template;
    if (!isOneOf(SCAFFOLD_TEMPLATES, template)) throw new UsageError(`--template must be one of ${SCAFFOLD_TEMPLATES.join(", ")}`);
    const auth = values.auth;
    if (auth !== undefined && !isOneOf(SCAFFOLD_AUTHS, auth)) throw new UsageError(`--auth must be one of ${SCAFFOLD_AUTHS.join(", ")}`);
    if (auth !== undefined && template !== "http") throw new UsageError(`--auth is for --template http (${template} has its own)`);
    const result = await scaffoldConnector({
      name: positionals[0]!,
      template,
      ...(auth ? { auth } : {}),
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
      ...(values.resource !== undefined ? { resource: values.resource } : {}),
      ...(values.flowcap !== undefined ? { flowcap: values.flowcap } : {}),
    });
    const rel = path.relative(process.cwd(), result.dir) || ".";
    const bundleScript = result.bundleScriptAddedTo ? [`added the script bundle:${positionals[0]} to ${path.relative(process.cwd(), result.bundleScriptAddedTo)}`] : [];
    process.stdout.write(
      [`created ${rel} (${template}${result.auth ? `, auth ${result.auth}` : ""}): ${result.files.length} files`, ...result.files.map((f) => `  ${f}`), `flowcap dependency: ${result.flowcap}`, ...bundleScript, "", "next:", `  cd ${rel}`, "  npm install", "  npm test      # build, conformance suite, preview", "  npm start     # preview the capture in test.flow.yaml", ""].join("\n"),
    );
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
