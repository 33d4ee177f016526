import { builtin } from "./builtin.js";

type GcFunction = (options?: { type?: "minor" | "major"; execution?: "sync" | "async" }) => void;
let gc: GcFunction | null | undefined;

/**
 * Asks V8 for a minor collection (a scavenge of the young generation, about a millisecond).
 *
 * Why: a process that streams a child's output reads it into a new buffer per read (Node gives
 * no way to read a child's stdout into buffers of our own), and V8 frees a dead buffer's memory
 * only when a collection finds it dead. A reader that allocates little else triggers few
 * collections, and V8 lets up to 64 MB of dead buffers pile up before it collects for them:
 * 40 MB of a shim's resident set at full speed. Collecting the young generation every few
 * megabytes read frees them while they are still young.
 *
 * `gc` is V8's own, reached as tools such as Jest reach it (exposed to a new context); where it
 * cannot be had, this does nothing.
 */
export function collectYoungGarbage(): void {
  if (gc === undefined) {
    try {
      // Loaded here, not at start-up: a cold `spec` never collects.
      builtin<typeof import("node:v8")>("node:v8").setFlagsFromString("--expose-gc");
      gc = builtin<typeof import("node:vm")>("node:vm").runInNewContext("gc") as GcFunction;
    } catch {
      gc = null;
    }
  }
  gc?.({ type: "minor" });
}
