//! Vital signs as typed (`98.6F`, `150lb`, `70 in`) for every kind, on into the core's canonical
//! value: never a panic; a value the core takes is finite and within the vital's plausible range;
//! a refusal is `invalid_input` naming the vital, free of raw control characters.

#![no_main]

use clinicdesk_cli::arguments::vital_reading;
use clinicdesk_core::{ErrorCode, VITALS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    for definition in VITALS {
        let outcome = vital_reading(definition.kind, text)
            .and_then(|reading| reading.canonical_value());
        match outcome {
            Ok(value) => {
                let (low, high) = definition.plausible;
                assert!(value.is_finite() && (low..=high).contains(&value));
            }
            Err(error) => {
                assert_eq!(error.code, ErrorCode::InvalidInput, "{}", error.message);
                assert_eq!(error.field.as_deref(), Some(definition.kind.field_name()));
                assert!(!error.message.chars().any(char::is_control));
            }
        }
    }
});
