//! Vital-sign reference data (docs/reference.md, "Vital signs") and the pure rules on it: unit conversion, plausible
//! ranges, normal and critical flags, BMI. No storage here; `vitals.rs` records and reads sets.

use clinicdesk_error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Which vital a reading is.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VitalKind {
    Systolic,
    Diastolic,
    HeartRate,
    RespiratoryRate,
    Temperature,
    OxygenSaturation,
    Weight,
    Height,
    Bmi,
    Pain,
}

/// How a value compares with the reference ranges.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpretation {
    Normal,
    Low,
    High,
    CriticalLow,
    CriticalHigh,
}

impl Interpretation {
    pub fn code(self) -> &'static str {
        match self {
            Interpretation::Normal => "normal",
            Interpretation::Low => "low",
            Interpretation::High => "high",
            Interpretation::CriticalLow => "critical_low",
            Interpretation::CriticalHigh => "critical_high",
        }
    }

    pub fn is_critical(self) -> bool {
        matches!(
            self,
            Interpretation::CriticalLow | Interpretation::CriticalHigh
        )
    }
}

/// A bound of a range: the value itself counts as inside when `inclusive`.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    None,
    Below(f64),
    BelowOrEqual(f64),
}

/// The reference facts of one vital.
#[derive(Debug, Clone, Copy)]
pub struct VitalDefinition {
    pub kind: VitalKind,
    pub label: &'static str,
    pub loinc: &'static str,
    /// The UCUM code, kept in the data and in exports.
    pub unit: &'static str,
    /// The unit as people write it (°C, mmHg, kg/m²), in every message and on screen.
    pub display_unit: &'static str,
    /// Decimal places the canonical value is stored with.
    pub decimals: u32,
    /// Plausible range, inclusive; outside is rejected.
    pub plausible: (f64, f64),
    /// Normal range, inclusive; `None` where there is no normal range.
    pub normal: Option<(f64, f64)>,
    /// Critical when the value is below this (strictly).
    pub critical_below: Option<f64>,
    /// Critical when the value is at or above this (`at_or_above`) or strictly above it.
    pub critical_high: Option<(f64, bool)>,
}

pub const VITALS: [VitalDefinition; 10] = [
    VitalDefinition {
        kind: VitalKind::Systolic,
        label: "systolic blood pressure",
        loinc: "8480-6",
        unit: "mm[Hg]",
        display_unit: "mmHg",
        decimals: 0,
        plausible: (50.0, 300.0),
        normal: Some((90.0, 139.0)),
        critical_below: Some(80.0),
        critical_high: Some((180.0, true)),
    },
    VitalDefinition {
        kind: VitalKind::Diastolic,
        label: "diastolic blood pressure",
        loinc: "8462-4",
        unit: "mm[Hg]",
        display_unit: "mmHg",
        decimals: 0,
        plausible: (20.0, 200.0),
        normal: Some((60.0, 89.0)),
        critical_below: None,
        critical_high: Some((120.0, true)),
    },
    VitalDefinition {
        kind: VitalKind::HeartRate,
        label: "heart rate",
        loinc: "8867-4",
        unit: "/min",
        display_unit: "/min",
        decimals: 0,
        plausible: (20.0, 300.0),
        normal: Some((60.0, 100.0)),
        critical_below: Some(40.0),
        critical_high: Some((130.0, false)),
    },
    VitalDefinition {
        kind: VitalKind::RespiratoryRate,
        label: "respiratory rate",
        loinc: "9279-1",
        unit: "/min",
        display_unit: "/min",
        decimals: 0,
        plausible: (4.0, 80.0),
        normal: Some((12.0, 20.0)),
        critical_below: Some(8.0),
        critical_high: Some((30.0, false)),
    },
    VitalDefinition {
        kind: VitalKind::Temperature,
        label: "body temperature",
        loinc: "8310-5",
        unit: "Cel",
        display_unit: "°C",
        decimals: 1,
        plausible: (25.0, 45.0),
        normal: Some((36.1, 37.8)),
        critical_below: Some(35.0),
        critical_high: Some((40.0, true)),
    },
    VitalDefinition {
        kind: VitalKind::OxygenSaturation,
        label: "oxygen saturation",
        loinc: "59408-5",
        unit: "%",
        display_unit: "%",
        decimals: 0,
        plausible: (50.0, 100.0),
        normal: Some((95.0, 100.0)),
        critical_below: Some(90.0),
        critical_high: None,
    },
    VitalDefinition {
        kind: VitalKind::Weight,
        label: "body weight",
        loinc: "29463-7",
        unit: "kg",
        display_unit: "kg",
        decimals: 1,
        plausible: (0.3, 500.0),
        normal: None,
        critical_below: None,
        critical_high: None,
    },
    VitalDefinition {
        kind: VitalKind::Height,
        label: "body height",
        loinc: "8302-2",
        unit: "cm",
        display_unit: "cm",
        decimals: 1,
        plausible: (20.0, 272.0),
        normal: None,
        critical_below: None,
        critical_high: None,
    },
    VitalDefinition {
        kind: VitalKind::Bmi,
        label: "BMI",
        loinc: "39156-5",
        unit: "kg/m2",
        display_unit: "kg/m²",
        decimals: 1,
        plausible: (1.0, 1000.0),
        normal: Some((18.5, 24.9)),
        critical_below: None,
        critical_high: None,
    },
    VitalDefinition {
        kind: VitalKind::Pain,
        label: "pain severity",
        loinc: "72514-3",
        unit: "{score}",
        display_unit: "/10",
        decimals: 0,
        plausible: (0.0, 10.0),
        normal: Some((0.0, 3.0)),
        critical_below: None,
        critical_high: None,
    },
];

impl VitalKind {
    pub fn definition(self) -> &'static VitalDefinition {
        VITALS
            .iter()
            .find(|definition| definition.kind == self)
            .expect("every kind is defined")
    }

    pub fn from_loinc(loinc: &str) -> Option<VitalKind> {
        VITALS
            .iter()
            .find(|definition| definition.loinc == loinc)
            .map(|definition| definition.kind)
    }

    /// The name of this vital as an input field (the API's and the UI's): `heart_rate`.
    pub fn field_name(self) -> &'static str {
        match self {
            VitalKind::Systolic => "systolic",
            VitalKind::Diastolic => "diastolic",
            VitalKind::HeartRate => "heart_rate",
            VitalKind::RespiratoryRate => "respiratory_rate",
            VitalKind::Temperature => "temperature",
            VitalKind::OxygenSaturation => "oxygen_saturation",
            VitalKind::Weight => "weight",
            VitalKind::Height => "height",
            VitalKind::Bmi => "bmi",
            VitalKind::Pain => "pain",
        }
    }

    /// The names people and scripts use: `systolic`, `heart_rate`, `temperature`, `spo2`, …
    pub fn from_name(name: &str) -> Result<VitalKind> {
        let key = name.trim().to_lowercase().replace(['-', ' '], "_");
        let kind = match key.as_str() {
            "systolic" | "sbp" | "systolic_blood_pressure" => VitalKind::Systolic,
            "diastolic" | "dbp" | "diastolic_blood_pressure" => VitalKind::Diastolic,
            "heart_rate" | "pulse" | "hr" => VitalKind::HeartRate,
            "respiratory_rate" | "resp" | "rr" => VitalKind::RespiratoryRate,
            "temperature" | "temp" | "body_temperature" => VitalKind::Temperature,
            "oxygen_saturation" | "spo2" | "sat" => VitalKind::OxygenSaturation,
            "weight" | "body_weight" => VitalKind::Weight,
            "height" | "body_height" => VitalKind::Height,
            "pain" | "pain_severity" => VitalKind::Pain,
            _ => {
                return Err(Error::invalid_field("kind", format!(
                    "{:?} is not a vital sign; use systolic, diastolic, heart_rate, respiratory_rate, temperature, spo2, weight, height or pain",
                    crate::validation::visible(name)
                )))
            }
        };
        Ok(kind)
    }
}

fn round_to(value: f64, decimals: u32) -> f64 {
    let factor = 10f64.powi(decimals as i32);
    (value * factor).round() / factor
}

/// Converts an entered value to the canonical unit: °F → Cel, lb → kg, in → cm. Returns the
/// canonical value rounded to the vital's decimals (0.1 °C, 0.1 kg, 0.1 cm; whole numbers else).
pub fn to_canonical(kind: VitalKind, value: f64, unit: Option<&str>) -> Result<f64> {
    let definition = kind.definition();
    let field = kind.field_name();
    if !value.is_finite() {
        return Err(Error::invalid_field(
            field,
            format!("{} must be a number", definition.label),
        ));
    }
    if kind == VitalKind::Pain && value.fract() != 0.0 {
        return Err(Error::invalid_field(
            field,
            format!(
                "pain severity {} is not a whole number from 0 to 10",
                trim_number(value)
            ),
        ));
    }
    if let Some(unit) = unit {
        if unit.chars().count() > 20 || unit.chars().any(crate::validation::is_forbidden_in_line) {
            return Err(Error::invalid_field(
                field,
                format!(
                    "{:?} is not a unit for {}; use {}",
                    crate::validation::visible(unit),
                    definition.label,
                    definition.display_unit
                ),
            ));
        }
    }
    let unit = unit
        .map(|u| u.trim().to_lowercase())
        .filter(|u| !u.is_empty());
    let converted = match (kind, unit.as_deref()) {
        (_, None) => value,
        (_, Some(u)) if u == definition.unit.to_lowercase() => value,
        (VitalKind::Temperature, Some("c" | "°c" | "degc")) => value,
        (VitalKind::Temperature, Some("f" | "°f" | "degf" | "[degf]")) => {
            (value - 32.0) * 5.0 / 9.0
        }
        (VitalKind::Weight, Some("lb" | "lbs" | "[lb_av]")) => value * 0.453_592_37,
        (VitalKind::Height, Some("in" | "[in_i]")) => value * 2.54,
        (VitalKind::Height, Some("m")) => value * 100.0,
        (VitalKind::Systolic | VitalKind::Diastolic, Some("mmhg")) => value,
        (VitalKind::HeartRate | VitalKind::RespiratoryRate, Some("bpm" | "/min" | "min")) => value,
        (_, Some(other)) => {
            return Err(Error::invalid_field(
                field,
                format!(
                    "{} cannot be entered in {:?}; use {}{}",
                    definition.label,
                    crate::validation::visible(other),
                    definition.display_unit,
                    match kind {
                        VitalKind::Temperature => " or °F",
                        VitalKind::Weight => " or lb",
                        VitalKind::Height => " or in",
                        _ => "",
                    }
                ),
            ))
        }
    };
    Ok(round_to(converted, definition.decimals))
}

/// Refuses a canonical value outside the plausible range, naming the field, value and range.
pub fn check_plausible(kind: VitalKind, canonical: f64) -> Result<()> {
    let definition = kind.definition();
    let (low, high) = definition.plausible;
    if canonical < low || canonical > high {
        return Err(Error::invalid_field(
            kind.field_name(),
            format!(
                "{} {} {} is outside the plausible range {}–{} {}; check the reading",
                definition.label,
                trim_number(canonical),
                definition.display_unit,
                trim_number(low),
                trim_number(high),
                definition.display_unit
            ),
        ));
    }
    if kind == VitalKind::Pain && canonical.fract() != 0.0 {
        return Err(Error::invalid_field(
            kind.field_name(),
            "pain severity is a whole number from 0 to 10",
        ));
    }
    Ok(())
}

/// Normal, low, high, or critical, by the table in docs/reference.md; `None` for vitals without ranges.
pub fn interpret(kind: VitalKind, canonical: f64) -> Option<Interpretation> {
    let definition = kind.definition();
    if let Some(threshold) = definition.critical_below {
        if canonical < threshold {
            return Some(Interpretation::CriticalLow);
        }
    }
    if let Some((threshold, at_or_above)) = definition.critical_high {
        if canonical > threshold || (at_or_above && canonical == threshold) {
            return Some(Interpretation::CriticalHigh);
        }
    }
    let (low, high) = definition.normal?;
    Some(if canonical < low {
        Interpretation::Low
    } else if canonical > high {
        Interpretation::High
    } else {
        Interpretation::Normal
    })
}

/// BMI from kg and cm, to one decimal.
pub fn body_mass_index(weight_kg: f64, height_cm: f64) -> f64 {
    let metres = height_cm / 100.0;
    round_to(weight_kg / (metres * metres), 1)
}

pub(crate) fn trim_number(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use VitalKind::*;

    /// (kind, lowest plausible, highest plausible, a value just below, a value just above)
    const EDGES: &[(VitalKind, f64, f64, f64, f64)] = &[
        (Systolic, 50.0, 300.0, 49.0, 301.0),
        (Diastolic, 20.0, 200.0, 19.0, 201.0),
        (HeartRate, 20.0, 300.0, 19.0, 301.0),
        (RespiratoryRate, 4.0, 80.0, 3.0, 81.0),
        (Temperature, 25.0, 45.0, 24.9, 45.1),
        (OxygenSaturation, 50.0, 100.0, 49.0, 101.0),
        (Weight, 0.3, 500.0, 0.2, 500.1),
        (Height, 20.0, 272.0, 19.9, 272.1),
        (Pain, 0.0, 10.0, -1.0, 11.0),
    ];

    #[test]
    fn plausible_edges_are_accepted_and_just_outside_is_rejected_with_field_value_and_range() {
        for (kind, low, high, below, above) in EDGES {
            check_plausible(*kind, *low).unwrap_or_else(|e| panic!("{kind:?} {low}: {e}"));
            check_plausible(*kind, *high).unwrap_or_else(|e| panic!("{kind:?} {high}: {e}"));
            for outside in [below, above] {
                let error = check_plausible(*kind, *outside)
                    .err()
                    .unwrap_or_else(|| panic!("{kind:?} {outside} accepted"));
                let definition = kind.definition();
                assert!(
                    error
                        .message
                        .to_lowercase()
                        .contains(&definition.label.to_lowercase()),
                    "{}",
                    error.message
                );
                assert!(
                    error.message.contains(&trim_number(*outside)),
                    "{}",
                    error.message
                );
                assert!(
                    error.message.contains(&format!(
                        "{}–{}",
                        trim_number(*low),
                        trim_number(*high)
                    )),
                    "{}",
                    error.message
                );
            }
        }
    }

    #[test]
    fn flags_and_critical_flags_match_the_product_table() {
        use Interpretation::*;
        let check = |kind: VitalKind, value: f64, expected: Option<Interpretation>| {
            assert_eq!(interpret(kind, value), expected, "{kind:?} {value}");
        };
        check(Systolic, 79.0, Some(CriticalLow));
        check(Systolic, 80.0, Some(Low));
        check(Systolic, 89.0, Some(Low));
        check(Systolic, 90.0, Some(Normal));
        check(Systolic, 139.0, Some(Normal));
        check(Systolic, 140.0, Some(High));
        check(Systolic, 179.0, Some(High));
        check(Systolic, 180.0, Some(CriticalHigh));
        check(Diastolic, 59.0, Some(Low));
        check(Diastolic, 60.0, Some(Normal));
        check(Diastolic, 89.0, Some(Normal));
        check(Diastolic, 90.0, Some(High));
        check(Diastolic, 119.0, Some(High));
        check(Diastolic, 120.0, Some(CriticalHigh));
        check(HeartRate, 39.0, Some(CriticalLow));
        check(HeartRate, 40.0, Some(Low));
        check(HeartRate, 60.0, Some(Normal));
        check(HeartRate, 100.0, Some(Normal));
        check(HeartRate, 101.0, Some(High));
        check(HeartRate, 130.0, Some(High));
        check(HeartRate, 131.0, Some(CriticalHigh));
        check(RespiratoryRate, 7.0, Some(CriticalLow));
        check(RespiratoryRate, 8.0, Some(Low));
        check(RespiratoryRate, 12.0, Some(Normal));
        check(RespiratoryRate, 20.0, Some(Normal));
        check(RespiratoryRate, 21.0, Some(High));
        check(RespiratoryRate, 30.0, Some(High));
        check(RespiratoryRate, 31.0, Some(CriticalHigh));
        check(Temperature, 34.9, Some(CriticalLow));
        check(Temperature, 35.0, Some(Low));
        check(Temperature, 36.0, Some(Low));
        check(Temperature, 36.1, Some(Normal));
        check(Temperature, 37.8, Some(Normal));
        check(Temperature, 37.9, Some(High));
        check(Temperature, 39.9, Some(High));
        check(Temperature, 40.0, Some(CriticalHigh));
        check(OxygenSaturation, 89.0, Some(CriticalLow));
        check(OxygenSaturation, 90.0, Some(Low));
        check(OxygenSaturation, 94.0, Some(Low));
        check(OxygenSaturation, 95.0, Some(Normal));
        check(OxygenSaturation, 100.0, Some(Normal));
        check(Bmi, 18.4, Some(Low));
        check(Bmi, 18.5, Some(Normal));
        check(Bmi, 24.9, Some(Normal));
        check(Bmi, 25.0, Some(High));
        check(Pain, 3.0, Some(Normal));
        check(Pain, 4.0, Some(High));
        check(Weight, 80.0, None);
        check(Height, 180.0, None);
    }

    #[test]
    fn units_are_shown_as_people_write_them_and_kept_as_ucum() {
        let shown: Vec<(&str, &str)> = VITALS.iter().map(|d| (d.unit, d.display_unit)).collect();
        assert_eq!(
            shown,
            [
                ("mm[Hg]", "mmHg"),
                ("mm[Hg]", "mmHg"),
                ("/min", "/min"),
                ("/min", "/min"),
                ("Cel", "°C"),
                ("%", "%"),
                ("kg", "kg"),
                ("cm", "cm"),
                ("kg/m2", "kg/m²"),
                ("{score}", "/10"),
            ]
        );
        let refused = check_plausible(VitalKind::Temperature, 46.0).unwrap_err();
        assert!(refused.message.contains("46 °C"), "{}", refused.message);
        assert!(!refused.message.contains("Cel"), "{}", refused.message);
    }

    #[test]
    fn unit_conversions_and_bmi_are_exact_to_the_stated_rounding() {
        let check = |kind: VitalKind, value: f64, unit: &str, expected: f64| {
            assert_eq!(
                to_canonical(kind, value, Some(unit)).unwrap(),
                expected,
                "{kind:?} {value} {unit}"
            );
        };
        check(Temperature, 98.6, "°F", 37.0);
        check(Temperature, 212.0, "F", 100.0);
        check(Temperature, 100.4, "degF", 38.0);
        check(Temperature, 101.3, "F", 38.5);
        check(Temperature, 37.25, "Cel", 37.3);
        check(Weight, 150.0, "lb", 68.0);
        check(Weight, 154.3, "lbs", 70.0);
        check(Weight, 1.0, "lb", 0.5);
        check(Height, 70.0, "in", 177.8);
        check(Height, 63.5, "in", 161.3);
        check(Height, 1.82, "m", 182.0);
        assert_eq!(body_mass_index(70.0, 175.0), 22.9);
        assert_eq!(body_mass_index(68.0, 177.8), 21.5);
        assert_eq!(body_mass_index(95.0, 160.0), 37.1);
        assert_eq!(body_mass_index(50.0, 180.0), 15.4);
        assert!(to_canonical(Pain, 4.5, None)
            .unwrap_err()
            .message
            .contains("whole number"));
        let refused = to_canonical(Weight, 10.0, Some("stone")).unwrap_err();
        assert!(refused.message.contains("kg or lb"), "{}", refused.message);
    }
}
