import { describe, expect, it } from "vitest";
import { updatePercent, updateStepLabel } from "./updates";

describe("update progress wording", () => {
  it("measures each step in whole percent", () => {
    expect(updatePercent(null)).toBe(0);
    expect(updatePercent({ stage: "backup", progress: { stage: "snapshot", done_bytes: 1, total_bytes: 4 } })).toBe(25);
    expect(updatePercent({ stage: "download", received_bytes: 5 * 1024 * 1024, total_bytes: 10 * 1024 * 1024 })).toBe(50);
    expect(updatePercent({ stage: "download", received_bytes: 5, total_bytes: null })).toBe(0);
    expect(updatePercent({ stage: "install" })).toBe(100);
  });

  it("says what is happening, with sizes a person reads", () => {
    expect(updateStepLabel(null)).toBe("Starting…");
    expect(updateStepLabel({ stage: "backup", progress: { stage: "check", done_bytes: 1, total_bytes: 2 } })).toBe(
      "Backing up first: checking integrity, links and the audit trail, 50%",
    );
    expect(updateStepLabel({ stage: "download", received_bytes: 12 * 1024 * 1024, total_bytes: 48 * 1024 * 1024 })).toBe(
      "Downloading: 12.0 MB of 48.0 MB",
    );
    expect(updateStepLabel({ stage: "download", received_bytes: 2048, total_bytes: null })).toBe("Downloading: 2 KB");
    expect(updateStepLabel({ stage: "install" })).toMatch(/^Installing/);
  });
});
