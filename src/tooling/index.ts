/** Shipping connectors: new connectors from templates (scaffold) and single-file bundles (esbuild, loaded only when bundling). */
export { bundleConnector, formatBundleReport } from "./bundle.js";
export { buildExecutable, formatExecutableReport, type ExecutableReport } from "./executable.js";
export { imageDockerfile } from "./image.js";
