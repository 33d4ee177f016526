/** Shipping connectors: new connectors from templates (scaffold) and single-file bundles (esbuild, loaded only when bundling). */
export { bundleConnector, formatBundleReport, type BundleOptions, type BundleReport } from "./bundle.js";
export { scaffoldConnector, SCAFFOLD_TEMPLATES, type ScaffoldOptions, type ScaffoldResult, type ScaffoldTemplate } from "./scaffold.js";
