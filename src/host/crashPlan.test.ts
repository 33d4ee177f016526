import { describe, expect, it } from "vitest";
import { describeKill, KILL_MOMENT_KINDS, MAX_KILLS_PER_TRIAL, planTrials, seededRandom } from "./crashPlan.js";

const shape = { captured: 9, checkpoints: 6 };

describe("crash kill plans", () => {
  it("are the same for the same seed, and differ between seeds", () => {
    expect(planTrials(42, 8, shape)).toEqual(planTrials(42, 8, shape));
    expect(planTrials(42, 8, shape)).not.toEqual(planTrials(43, 8, shape));
    // The generator is a fixed algorithm (mulberry32), not Math.random: pinned values.
    const random = seededRandom(1);
    expect([random(), random()].map((x) => x.toFixed(6))).toEqual(["0.627074", "0.002736"]);
  });

  it("replay trial t with --trials t: a trial does not depend on how many follow it", () => {
    const all = planTrials(7, 10, shape);
    for (let t = 1; t <= 10; t++) expect(planTrials(7, t, shape)).toEqual(all.slice(0, t));
  });

  it("cover every kind of moment in any four consecutive kills, each landing on a line the uninterrupted session wrote", () => {
    for (let seed = 0; seed < 50; seed++) {
      const kills = planTrials(seed, 6, shape).flatMap((t) => t.kills);
      for (let i = 0; i + 4 <= kills.length; i++) expect(new Set(kills.slice(i, i + 4).map((k) => k.at))).toEqual(new Set(KILL_MOMENT_KINDS));
      for (const kill of kills) {
        const [line, max] = kill.at === "mid-transaction" ? [kill.captured, shape.captured] : kill.at === "opened" ? [1, 1] : [kill.checkpoint, shape.checkpoints];
        expect(line).toBeGreaterThanOrEqual(1);
        expect(line).toBeLessThanOrEqual(max);
      }
      const perTrial = planTrials(seed, 6, shape).map((t) => t.kills.length);
      expect(Math.min(...perTrial)).toBeGreaterThanOrEqual(1);
      expect(Math.max(...perTrial)).toBeLessThanOrEqual(MAX_KILLS_PER_TRIAL);
    }
  });

  it("never plan a kill mid-transaction when the session captured nothing", () => {
    const kills = planTrials(3, 20, { captured: 0, checkpoints: 4 }).flatMap((t) => t.kills);
    expect(kills.some((k) => k.at === "mid-transaction")).toBe(false);
    expect(new Set(kills.map((k) => k.at))).toEqual(new Set(["before-commit", "after-commit", "opened"]));
  });

  it("read as moments of a session", () => {
    expect(describeKill({ at: "opened" })).toBe("right after opened");
    expect(describeKill({ at: "mid-transaction", captured: 3 })).toBe("mid-transaction, after captured #3");
    expect(describeKill({ at: "before-commit", checkpoint: 2 })).toBe("between the documents and the state of checkpoint #2");
    expect(describeKill({ at: "after-commit", checkpoint: 2 })).toBe("right after checkpoint #2 committed");
  });
});
