import { FlowcapError } from "../util/errors.js";

/** The Node the build stage makes the executable with: a maintained LTS (the executable carries it). */
export const EXECUTABLE_NODE_IMAGE = "node:24-bookworm-slim";
/** Where an Airbyte source image keeps its code, and how airbyte-to-flow's images started it. */
export const AIRBYTE_IMAGE_COMMAND = ["python", "/airbyte/integration_code/main.py"];
/** The base of an image for a pip-installed source or tap. */
export const PIP_BASE_IMAGE = "python:3.12-slim-bookworm";

export interface ImageOptions {
  /** The wrapped program's protocol: an Airbyte source (default) or a Singer tap. */
  kind?: "airbyte" | "singer";
  /** An existing image to put flowcap in front of: an Airbyte source image (`airbyte/source-hubspot:0.6.0`). */
  from?: string;
  /** Or a pip requirement to install (`airbyte-source-faker==6.2.0`, `tap-github`), on `PIP_BASE_IMAGE`. */
  pip?: string;
  /** The source's command. Default for `from`: `python /airbyte/integration_code/main.py`; required for `pip` (its console script). */
  command?: string[];
  /** An airbyte-to-flow patch set in the build context (Airbyte sources only): copied to /flowcap/patches. */
  patches?: string;
  /** A prebuilt executable in the build context (`flowcap bundle --executable --cli`); by default a build stage makes one from the context. */
  executable?: string;
  /** Options passed to the shim before `--` (`--legacy-state message`, ...). */
  shimArgs?: string[];
  /** `org.opencontainers.image.title`. */
  name?: string;
  /** `dev.estuary.usage-rate` (default 1.0). */
  usageRate?: string;
}

/**
 * A Dockerfile that makes an Airbyte source image, or a pip-installed source or tap, a Flow
 * capture connector, the way airbyte-to-flow's images did (its static binary copied into the
 * source's image as the entrypoint): flowcap as one executable (`flowcap bundle --executable
 * --cli`, Node inside) copied into the image unchanged otherwise, the patch folder beside it,
 * the labels Flow's runtime reads (`FLOW_RUNTIME_PROTOCOL=capture`, `FLOW_RUNTIME_CODEC=json`,
 * `dev.estuary.usage-rate`), and an exec-form ENTRYPOINT (Flow overrides the entrypoint with its
 * connector-init, then runs the image's). The image needs no Node; the executable's build stage
 * uses a maintained LTS (`EXECUTABLE_NODE_IMAGE`) and the build context must hold flowcap (its
 * checkout, or a package whose package-lock.json installs it), unless `executable` names a
 * prebuilt one. The executable is linked against glibc: the base image must not be Alpine.
 */
export function imageDockerfile(options: ImageOptions): string {
  const kind = options.kind ?? "airbyte";
  if ((options.from === undefined) === (options.pip === undefined)) throw usage("give the source's image (--from) or a pip requirement (--pip), one of them");
  if (options.patches !== undefined && kind !== "airbyte") throw usage("--patches is an airbyte-to-flow patch set: it goes with Airbyte sources");
  const command = options.command ?? (options.from !== undefined ? AIRBYTE_IMAGE_COMMAND : undefined);
  if (!command?.length) throw usage("a pip-installed source needs --command (its console script, such as source-faker or tap-github)");
  for (const [flag, value] of [["--from", options.from], ["--pip", options.pip], ["--patches", options.patches], ["--executable", options.executable]] as const) {
    if (value !== undefined && (value === "" || /[\n\r]/.test(value))) throw usage(`${flag} must be one line`);
  }

  const shim = [kind, ...(options.patches !== undefined ? ["--patches", "/flowcap/patches"] : []), ...(options.shimArgs ?? []), "--", ...command];
  const entrypoint = JSON.stringify(["/flowcap/flowcap", ...shim]);
  const what = options.from !== undefined ? `the image ${options.from}` : `pip's ${options.pip}`;
  const lines: string[] = [
    "# syntax=docker/dockerfile:1",
    `# ${what} as a Flow capture connector: flowcap (one executable file, Node inside) in front of the`,
    `# ${kind === "airbyte" ? "Airbyte source" : "Singer tap"}, as airbyte-to-flow's images were made. Made by \`flowcap image\`; build it with`,
    "#   docker build --platform linux/amd64 -f <this file> -t <name> <context>",
    "",
  ];
  if (options.executable === undefined) {
    lines.push(
      "# 1. flowcap as one executable, built from the context (a flowcap checkout, or a package that installs it).",
      `FROM --platform=linux/amd64 ${EXECUTABLE_NODE_IMAGE} AS flowcap`,
      "WORKDIR /build",
      "COPY package.json package-lock.json ./",
      "RUN npm ci --ignore-scripts --no-audit --no-fund",
      "COPY . .",
      "RUN npm run build --if-present && npx flowcap bundle --executable --cli -o /out/flowcap",
      "",
    );
  }
  lines.push(options.from !== undefined ? "# 2. The source's own image, unchanged but for what follows." : "# 2. The source, installed with pip.");
  lines.push(`FROM --platform=linux/amd64 ${options.from ?? PIP_BASE_IMAGE}`);
  if (options.pip !== undefined) lines.push(`RUN pip install --no-cache-dir ${shellQuote(options.pip)}`);
  lines.push(options.executable === undefined ? "COPY --from=flowcap /out/flowcap /flowcap/flowcap" : `COPY ${options.executable} /flowcap/flowcap`);
  if (options.patches !== undefined) lines.push(`COPY ${options.patches} /flowcap/patches`);
  lines.push(
    "LABEL FLOW_RUNTIME_PROTOCOL=capture",
    "LABEL FLOW_RUNTIME_CODEC=json",
    "LABEL CONNECTOR_PROTOCOL=flow-capture",
    `LABEL dev.estuary.usage-rate=${options.usageRate ?? "1.0"}`,
  );
  if (options.name !== undefined) lines.push(`LABEL org.opencontainers.image.title=${options.name}`);
  lines.push(`ENTRYPOINT ${entrypoint}`, "");
  return lines.join("\n");
}

function shellQuote(value: string): string {
  return /^[\w@%+=:,./~-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

function usage(message: string): FlowcapError {
  return new FlowcapError("CONFIG_INVALID", `image: ${message}`, { userFacing: true });
}
