/** Shipping connectors: single-file bundles (esbuild) and, soon, scaffolds. */
export { bundleConnector, formatBundleReport, humanBytes, type BundleOptions, type BundleReport } from "./bundle.js";
