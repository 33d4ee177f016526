import { describe, expect, it } from "vitest";
import { Semaphore } from "./semaphore.js";

describe("Semaphore", () => {
  it("grants up to its capacity and serves waiters in call order, a released slot passing to the next", async () => {
    const s = new Semaphore(2);
    const a = (await s.acquire())!;
    const b = (await s.acquire())!;
    const order: string[] = [];
    const c = s.acquire().then((r) => (order.push("c"), r!));
    const d = s.acquire().then((r) => (order.push("d"), r!));
    expect([s.inUse, s.queued]).toEqual([2, 2]);
    a();
    a(); // a second call releases nothing more
    const releaseC = await c;
    expect(order).toEqual(["c"]);
    expect([s.inUse, s.queued]).toEqual([2, 1]);
    b();
    (await d)();
    releaseC();
    expect(s.inUse).toBe(0);
  });

  it("gives up a wait when its signal aborts", async () => {
    const s = new Semaphore(1);
    const held = (await s.acquire())!;
    const controller = new AbortController();
    const waiting = s.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    expect(s.queued).toBe(0);
    held();
    expect(s.inUse).toBe(0);
    expect(() => new Semaphore(0)).toThrow(RangeError);
  });
});
