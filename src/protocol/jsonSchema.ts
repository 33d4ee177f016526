import * as nodeModule from "node:module";
import type { Ajv } from "ajv";

type AjvModule = { Ajv: typeof Ajv; addFormats: (ajv: Ajv) => Ajv };
let ajvModule: AjvModule | undefined;

/**
 * ajv and ajv-formats (both CommonJS), loaded the first time a schema is compiled: a cold `spec`
 * compiles none, and ajv is half of a bundled connector's code. Synchronously, so compiling stays
 * synchronous: in a bundle, `require` is esbuild's, which evaluates the bundled packages here (not
 * at start-up); under plain Node's ES modules there is none, and createRequire loads them from
 * node_modules.
 */
function loadAjv(): AjvModule {
  if (ajvModule) return ajvModule;
  // Literal require() calls, so esbuild bundles both packages.
  const [ajv, formats] = (typeof require === "function" ? [require("ajv"), require("ajv-formats")] : [nodeModule.createRequire(import.meta.url)("ajv"), nodeModule.createRequire(import.meta.url)("ajv-formats")]) as [{ Ajv: typeof Ajv }, { default: (ajv: Ajv) => Ajv }];
  return (ajvModule = { Ajv: ajv.Ajv, addFormats: formats.default });
}

/** Flow's schema annotations: keywords that describe data (how to reduce it, what is secret) and constrain nothing. */
export const FLOW_ANNOTATION_KEYWORDS = ["reduce", "secret", "airbyte_secret", "x-infer-schema", "x-collection-generation-id"] as const;

/** What differs between flowcap's uses of JSON Schema; everything else is set alike for all of them. */
export interface SchemaCompilerOptions {
  /** Every problem (a config, shown to a person) or the first only (documents, checked one by one). Default true. */
  allErrors?: boolean;
  /** Fill in the schema's `default`s while validating (configs). Default false. */
  useDefaults?: boolean;
  /** ajv's `discriminator` keyword, for Flow's `oneOf` + `discriminator.propertyName` unions (one clear error, not one per branch). Default false. */
  discriminator?: boolean;
  /** Check `format`s (date-time, uri, email, ...). Default true. */
  formats?: boolean;
  /** Check each schema against its meta-schema before compiling it. Default true. */
  validateSchema?: boolean;
}

/**
 * The one place flowcap sets up its JSON Schema validator (ajv): connector and collection schemas
 * are written for Flow, not for ajv, so keywords ajv does not know are not errors (`strict` off),
 * Flow's annotations are known keywords, ajv never logs (stdout is the protocol), and formats are
 * checked as Flow checks them unless `formats` is false. The protocol's own validators are
 * compiled ahead of time (scripts/wire.mjs, with the same settings) and do not come through here.
 */
export function createSchemaCompiler(options: SchemaCompilerOptions = {}): Ajv {
  const formats = options.formats ?? true;
  const { Ajv, addFormats } = loadAjv();
  const ajv = new Ajv({
    strict: false,
    logger: false,
    allErrors: options.allErrors ?? true,
    useDefaults: options.useDefaults ?? false,
    discriminator: options.discriminator ?? false,
    validateSchema: options.validateSchema ?? true,
    validateFormats: formats,
  });
  if (formats) addFormats(ajv);
  for (const keyword of FLOW_ANNOTATION_KEYWORDS) ajv.addKeyword(keyword);
  return ajv;
}
