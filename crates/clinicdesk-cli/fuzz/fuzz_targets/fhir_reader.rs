//! The FHIR import reader on any bytes (an import file comes from another system): never a panic;
//! a file is either refused as a whole with a clear error, or read into records, refusals with
//! their place, and counted left-out elements.

#![no_main]

use clinicdesk_fhir::FhirReading;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut reading = FhirReading::new("fuzz");
    match reading.read_text("input.ndjson", bytes) {
        Err(error) => assert!(!error.message.is_empty()),
        Ok(()) => {
            let (items, refused, _) = reading.finish();
            for refusal in &refused {
                assert!(refusal.place.starts_with("input.ndjson"));
                assert!(!refusal.reason.is_empty());
            }
            for item in &items {
                assert!(item.place.starts_with("input.ndjson"));
            }
        }
    }
});
