/**
 * What must not outlive flowcap (a running child, a directory of secrets) registers a cleanup
 * here, so that it goes however flowcap ends short of SIGKILL: while any cleanup is
 * registered, a normal exit (`process.exit` included) runs them all, and so do SIGINT and
 * SIGTERM that nothing else handles, before flowcap dies of the signal as it would have.
 * (SIGKILL is the kernel's business: `parentDeath.ts` for children, the next start for
 * directories, `tempDir.ts`.)
 *
 * A signal someone else listens for is theirs: the runtime's SIGTERM stops a capture gracefully
 * (stopping its children, removing their files), and `flowcap preview` handles SIGINT by
 * stopping its connector. The handlers are installed only while a cleanup is registered, so a
 * process without children keeps Node's defaults.
 */

const cleanups = new Set<() => void>();
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Runs `cleanup` (synchronous, must not throw) if the process ends while it is registered;
 * returns what unregisters it.
 */
export function cleanupOnExit(cleanup: () => void): () => void {
  if (cleanups.size === 0) install();
  cleanups.add(cleanup);
  return () => {
    if (cleanups.delete(cleanup) && cleanups.size === 0) uninstall();
  };
}

function install(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on("exit", runAll);
}

function uninstall(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off("exit", runAll);
}

function runAll(): void {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is ending.
    }
  }
  cleanups.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Another listener owns this signal and cleans up its own way.
  if (process.listenerCount(signal) > 1) return;
  runAll();
  uninstall();
  // Die of the signal as if nobody had listened (exit status 128 + n, as the caller expects).
  process.kill(process.pid, signal);
}
