import { describe, expect, it } from "vitest";
import { IdleClock } from "./idle";

describe("IdleClock", () => {
  it("warns before the logoff and expires at it; input starts it over", () => {
    let now = 0;
    const clock = new IdleClock(600, 60, () => now);
    expect(clock.phase()).toBe("active");
    now = 539_000;
    expect([clock.phase(), clock.secondsLeft()]).toEqual(["active", 61]);
    now = 540_000;
    expect([clock.phase(), clock.secondsLeft()]).toEqual(["warning", 60]);
    clock.activity();
    now = 1_000_000;
    expect(clock.phase()).toBe("active");
    now = 540_000 + 600_000;
    expect([clock.phase(), clock.secondsLeft()]).toEqual(["expired", 0]);
  });
});
