import path from "node:path";
import { discoverRequest, runDiscover, runSpec, updateCatalog } from "../../host/index.js";
import { defineCommand } from "../command.js";
import { catalogOptions, loadSelectedCapture } from "../context.js";
import { Output } from "../output.js";
import { connectorLogPrinter } from "../reporters/logs.js";

const command = defineCommand(
  {
    name: "discover",
    summary: "discover the connector's bindings: update the catalog with them, or print them with --emit-raw",
    usage: "flowcap discover --source <flow.yaml> [--capture <name>] [--emit-raw]",
    options: {
      ...catalogOptions,
      "emit-raw": { type: "boolean", description: "print each discovered binding as one JSON line, and change no file" },
    },
  },
  async ({ values }) => {
    const { catalog, capture } = await loadSelectedCapture(values);
    const options = { logLevel: values["log-level"], onLog: connectorLogPrinter(process.stderr) };
    const discovered = await runDiscover(capture, discoverRequest(capture), options);
    if (values["emit-raw"]) {
      const out = new Output();
      for (const binding of discovered.bindings ?? []) await out.line(JSON.stringify(binding));
      return 0;
    }
    const spec = await runSpec(capture, options);
    const update = await updateCatalog(catalog, capture, spec, discovered.bindings ?? []);
    const rel = (f: string) => path.relative(process.cwd(), f);
    const say = (s: string) => process.stderr.write(s + "\n");
    say(`discovered ${discovered.bindings?.length ?? 0} binding(s) for ${capture.name}: ${update.addedBindings.length} added, ${update.keptBindings.length} already bound`);
    for (const b of update.addedBindings) say(`  + binding ${b}`);
    for (const c of update.addedCollections) say(`  + collection ${c}`);
    for (const c of update.updatedSchemas) say(`  ~ schema of ${c}`);
    for (const b of update.undiscoveredBindings) say(`  ! binding ${b} was not discovered; kept as written (remove it if the resource is gone)`);
    for (const k of update.keyDifferences) say(`  ! ${k.collection}: the catalog's key ${JSON.stringify(k.catalog)} differs from the discovered ${JSON.stringify(k.discovered)}; kept the catalog's`);
    say(`wrote ${update.writtenFiles.map(rel).join(", ")}`);
    return 0;
  },
);

export const run = command.run;
export const spec = command.spec;
