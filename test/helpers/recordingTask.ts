import type { CaptureTask, Logger } from "../../src/runtime/index.js";

/** What a `recordingTask` was given: its documents (as JSON, in order) and its checkpoints. */
export interface TaskRecording {
  task: CaptureTask;
  docs: { binding: number; doc: Record<string, unknown> }[];
  checkpoints: { updated: Record<string, unknown>; mergePatch: boolean }[];
}

/**
 * A capture task that records the documents captured as JSON and the checkpoints, for unit
 * tests of the code that feeds a task (the shims' core). The byte-level captures throw: use the
 * runtime's real task to test those.
 */
export function recordingTask(log: Logger): TaskRecording {
  const recording: TaskRecording = { task: undefined as unknown as CaptureTask, docs: [], checkpoints: [] };
  const unsupported = () => {
    throw new Error("recordingTask records capturedJson, captured and checkpoint only");
  };
  recording.task = {
    name: "test",
    log,
    stopping: new AbortController().signal,
    captured: (binding, doc) => recording.docs.push({ binding, doc: JSON.parse(JSON.stringify(doc)) as Record<string, unknown> }),
    capturedJson: (binding, json) => recording.docs.push({ binding, doc: JSON.parse(json) as Record<string, unknown> }),
    capturedBytes: unsupported,
    capturedInPlace: unsupported,
    sourcedSchema: unsupported,
    checkpoint: async (updated, options) => {
      recording.checkpoints.push({ updated: structuredClone(updated), mergePatch: options?.mergePatch ?? true });
    },
    pendingBytes: 0,
    unwrittenBytes: 0,
    writeThrough: (section) => section(),
    writable: async () => {},
    spawn: unsupported,
  };
  return recording;
}
