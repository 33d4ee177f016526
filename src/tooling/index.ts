/** Shipping connectors: single-file bundles (esbuild) and, soon, scaffolds. */
export { bundleConnector, formatBundleReport, type BundleOptions, type BundleReport } from "./bundle.js";
export { scaffoldConnector, SCAFFOLD_TEMPLATES, type ScaffoldOptions, type ScaffoldResult, type ScaffoldTemplate } from "./scaffold.js";
