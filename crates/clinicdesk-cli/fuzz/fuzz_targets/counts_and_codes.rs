//! Counts (`--minutes 15`), the repeated-hour choice and MRNs as typed: never a panic, and a
//! count that is read is the number written.

#![no_main]

use clinicdesk_cli::arguments::count;
use clinicdesk_core::{visible, RepeatedHour};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match count(text) {
        Ok(number) => assert_eq!(text.trim().parse::<u32>().ok(), Some(number)),
        Err(message) => assert!(!message.chars().any(char::is_control)),
    }
    if let Err(error) = RepeatedHour::from_code(text) {
        assert!(!error.message.chars().any(char::is_control));
    }
    let shown = visible(text);
    assert!(!shown.chars().any(char::is_control));
    assert!(shown.chars().count() <= 90);
});
