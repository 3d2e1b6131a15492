import { describe, expect, it } from "vitest";
import type { VitalDefinitionView } from "./bindings";
import { bodyMassIndex, checkField, toCanonical } from "./vitals-form";

const systolic: VitalDefinitionView = {
  kind: "systolic", label: "systolic blood pressure", loinc: "8480-6", unit: "mm[Hg]", display_unit: "mmHg",
  plausible_low: 50, plausible_high: 300, normal: [90, 139], critical_below: 80, critical_high: [180, true], decimals: 0,
};
const temperature: VitalDefinitionView = {
  kind: "temperature", label: "body temperature", loinc: "8310-5", unit: "Cel", display_unit: "°C",
  plausible_low: 25, plausible_high: 45, normal: [36.1, 37.8], critical_below: 35, critical_high: [40, true], decimals: 1,
};

describe("vitals form checks", () => {
  it("flags like the product table", () => {
    const flag = (text: string) => {
      const check = checkField(systolic, text, null);
      return check.state === "ok" ? check.interpretation : check.state;
    };
    expect([flag("79"), flag("80"), flag("139"), flag("140"), flag("180")]).toEqual(["critical_low", "low", "normal", "high", "critical_high"]);
    expect(flag("")).toBe("empty");
  });

  it("names field, value and range when a value is implausible, also after conversion", () => {
    const check = checkField(temperature, "120", "°F");
    expect(check).toEqual({
      state: "invalid",
      message: "body temperature 48.9 °C is outside the plausible range 25–45 °C (entered as 120 °F)",
    });
    expect(checkField(systolic, "abc", null).state).toBe("invalid");
  });

  it("converts °F, lb and in like the core, and computes BMI", () => {
    expect(toCanonical("temperature", 98.6, "°F", 1)).toBe(37);
    expect(toCanonical("weight", 150, "lb", 1)).toBe(68);
    expect(toCanonical("height", 70, "in", 1)).toBe(177.8);
    expect(bodyMassIndex(68, 177.8)).toBe(21.5);
  });
});
