/** Shipping connectors: new connectors from templates (scaffold) and single-file bundles (esbuild, loaded only when bundling). */
export { bundleConnector, formatBundleReport, type BundleOptions, type BundleReport } from "./bundle.js";
export { scaffoldConnector, SCAFFOLD_TEMPLATES, type ScaffoldOptions, type ScaffoldResult, type ScaffoldTemplate } from "./scaffold.js";
export { buildExecutable, formatExecutableReport, type ExecutableOptions, type ExecutableReport } from "./executable.js";
export { imageDockerfile, EXECUTABLE_NODE_IMAGE, AIRBYTE_IMAGE_COMMAND, PIP_BASE_IMAGE, type ImageOptions } from "./image.js";
