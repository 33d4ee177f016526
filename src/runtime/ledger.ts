import { FlowcapError } from "../util/errors.js";
import { deferred, type Deferred } from "../util/abort.js";

/**
 * Pairs written checkpoints with Flow's acknowledgements, in order (Estuary's Transactor).
 * `Acknowledge{checkpoints: n}` commits the n oldest unacknowledged checkpoints.
 */
export class AckLedger {
  private pending: Deferred<void>[] = [];
  private failure: unknown;

  /** Records a checkpoint just written; the promise resolves when Flow acknowledges it. */
  expect(): Promise<void> {
    const d = deferred();
    if (this.failure !== undefined) d.reject(this.failure);
    else this.pending.push(d);
    return d.promise;
  }

  get outstanding(): number {
    return this.pending.length;
  }

  /** Resolves the `count` oldest checkpoints. More than are outstanding is a protocol violation. */
  acknowledge(count: number): void {
    if (count > this.pending.length) {
      throw new FlowcapError(
        "REQUEST_UNEXPECTED",
        `acknowledge of ${count} checkpoint(s) but only ${this.pending.length} ${this.pending.length === 1 ? "is" : "are"} awaiting acknowledgement`,
        { userFacing: true },
      );
    }
    for (const d of this.pending.splice(0, count)) d.resolve();
  }

  /** Fails every outstanding and future expectation (the session is ending). */
  fail(reason: unknown): void {
    this.failure = reason;
    for (const d of this.pending.splice(0)) d.reject(reason);
  }
}
