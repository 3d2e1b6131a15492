// The vitals form's own checks, from the same reference table the core uses (sent by the shell):
// unit conversion, plausible range with a message naming the field, flags, BMI. The core checks
// again on save; this is for seeing problems while typing.
import type { Interpretation, VitalDefinitionView, VitalKind } from "./bindings";

export type Unit = string;

export const ALTERNATE_UNITS: Partial<Record<VitalKind, Unit>> = {
  temperature: "°F",
  weight: "lb",
  height: "in",
};

export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

export function toCanonical(kind: VitalKind, value: number, unit: Unit | null, decimals: number): number {
  let converted = value;
  if (kind === "temperature" && unit === "°F") converted = ((value - 32) * 5) / 9;
  if (kind === "weight" && unit === "lb") converted = value * 0.45359237;
  if (kind === "height" && unit === "in") converted = value * 2.54;
  return round(converted, decimals);
}

function trim(value: number): string {
  return String(round(value, 2));
}

export type FieldCheck =
  | { state: "empty" }
  | { state: "invalid"; message: string }
  | { state: "ok"; canonical: number; interpretation: Interpretation | null };

export function interpret(definition: VitalDefinitionView, value: number): Interpretation | null {
  if (definition.critical_below !== null && value < definition.critical_below) return "critical_low";
  if (definition.critical_high !== null) {
    const [threshold, atOrAbove] = definition.critical_high;
    if (value > threshold || (atOrAbove && value === threshold)) return "critical_high";
  }
  if (definition.normal === null) return null;
  const [low, high] = definition.normal;
  if (value < low) return "low";
  if (value > high) return "high";
  return "normal";
}

export function checkField(definition: VitalDefinitionView, text: string, unit: Unit | null): FieldCheck {
  const trimmed = text.trim().replace(",", ".");
  if (trimmed === "") return { state: "empty" };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { state: "invalid", message: `${definition.label}: "${text}" is not a number` };
  if (definition.kind === "pain" && !Number.isInteger(value)) {
    return { state: "invalid", message: "pain severity is a whole number from 0 to 10" };
  }
  const canonical = toCanonical(definition.kind, value, unit, definition.decimals);
  if (canonical < definition.plausible_low || canonical > definition.plausible_high) {
    const entered = unit && unit !== definition.unit && unit !== definition.display_unit ? ` (entered as ${trim(value)} ${unit})` : "";
    return {
      state: "invalid",
      message: `${definition.label} ${trim(canonical)} ${definition.display_unit} is outside the plausible range ${trim(definition.plausible_low)}–${trim(definition.plausible_high)} ${definition.display_unit}${entered}`,
    };
  }
  return { state: "ok", canonical, interpretation: interpret(definition, canonical) };
}

export function bodyMassIndex(weightKg: number, heightCm: number): number {
  const metres = heightCm / 100;
  return round(weightKg / (metres * metres), 1);
}
