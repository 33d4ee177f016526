/**
 * A counting semaphore: at most `capacity` holders at a time, the others served in call order.
 * `acquire` resolves with the function that releases the slot (calling it twice releases once),
 * or with undefined when `signal` aborts before a slot is free.
 */
export class Semaphore {
  private held = 0;
  private readonly waiting: { grant: (release: () => void) => void }[] = [];

  constructor(readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new RangeError(`a semaphore's capacity is a positive integer, not ${capacity}`);
  }

  /** Slots held now. */
  get inUse(): number {
    return this.held;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  acquire(signal?: AbortSignal): Promise<(() => void) | undefined> {
    if (signal?.aborted) return Promise.resolve(undefined);
    if (this.held < this.capacity) {
      this.held++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(undefined);
      };
      const entry = {
        grant: (release: () => void) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      this.waiting.push(entry);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  private releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      if (next) next.grant(this.releaser());
      else this.held--;
    };
  }
}
