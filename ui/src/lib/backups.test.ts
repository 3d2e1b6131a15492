import { describe, expect, it } from "vitest";
import { describeBytes, describeCounts, localInputToInstant, percentDone, stageLabel } from "./backups";

describe("backups screen wording", () => {
  it("turns progress into a whole percent, never above 100", () => {
    expect(percentDone(null)).toBe(0);
    expect(percentDone({ stage: "decrypt", done_bytes: 0, total_bytes: 0 })).toBe(0);
    expect(percentDone({ stage: "decrypt", done_bytes: 512, total_bytes: 1024 })).toBe(50);
    expect(percentDone({ stage: "snapshot", done_bytes: 1023, total_bytes: 1024 })).toBe(99);
    expect(percentDone({ stage: "swap", done_bytes: 5, total_bytes: 1 })).toBe(100);
  });

  it("names every stage in words", () => {
    for (const stage of ["snapshot", "decrypt", "check", "replay", "swap"] as const) {
      expect(stageLabel(stage)).toMatch(/^[A-Z][a-z]/);
    }
  });

  it("counts records with singular and plural, treating missing counts as zero", () => {
    expect(describeCounts({ patients: 1, appointments: 40, vitals_sets: 3 })).toBe("1 patient, 40 appointments, 3 vitals sets, 0 notes");
  });

  it("sizes files in KB, MB and GB", () => {
    expect(describeBytes(300)).toBe("1 KB");
    expect(describeBytes(5 * 1024 * 1024)).toBe("5.0 MB");
    expect(describeBytes(17 * 1024 * 1024 * 1024)).toBe("17.00 GB");
  });

  it("reads a local date and time as an instant and refuses anything else", () => {
    const instant = localInputToInstant("2026-11-21T14:05");
    expect(instant).not.toBeNull();
    expect(new Date(instant!).getHours()).toBe(14);
    expect(localInputToInstant("")).toBeNull();
    expect(localInputToInstant("yesterday")).toBeNull();
  });
});
