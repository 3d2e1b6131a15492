//! Tauri commands, grouped per domain. Each is a few lines: take the session, call the core,
//! return its value or its `{code, message}` error.

pub mod admin;
pub mod audit;
pub mod backups;
pub mod notes;
pub mod patients;
pub mod records;
pub mod safety_facts;
pub mod scheduling;
pub mod session;
pub mod sync;
pub mod updates;
pub mod vitals;
