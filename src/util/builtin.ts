import * as nodeModule from "node:module";

/**
 * A Node built-in module, loaded when first asked for rather than when the importing module
 * loads. For what only some runs use (hashing, V8's flags): a cold `spec` then loads none of it,
 * and `node:crypto` alone is a dozen internal modules. Synchronous, so callers stay synchronous:
 * through `process.getBuiltinModule` where Node has it (20.16 and later), else `require`.
 */
export function builtin<T>(id: `node:${string}`): T {
  const getBuiltinModule = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return (getBuiltinModule ? getBuiltinModule(id) : nodeModule.createRequire(import.meta.url)(id)) as T;
}
