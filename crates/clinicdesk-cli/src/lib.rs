//! The parts of the `clinicdesk` command-line tool that other programs use too: how arguments
//! people type become core values (dates, times, windows, vital signs with units). The fuzz
//! targets in `fuzz/` call these; the binary (`main.rs`) is the rest of the tool.

pub mod arguments;
