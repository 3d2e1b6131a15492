//! Sync with the clinic group's central PostgreSQL server: the central schema and the server's
//! tools, enrolment of a workstation, and the client that carries the core's push and pull
//! batches over TLS pinned to the enrolled certificate.
//!
//! The rules of sync (what a server answer or a pulled change does to the store, conflicts)
//! live in `clinicdesk-core`; this crate holds all of the network code, so the core never opens
//! a socket. The server is PostgreSQL itself: no process of ours stands in front of it.

pub mod central_schema;
pub mod engine;
pub mod enrolment;
pub mod server_tools;
pub mod sign_in;
pub mod transport;

/// The PostgreSQL client the tools hand out (one version for every caller).
pub use postgres;

pub use central_schema::{current_version as central_schema_version, CENTRAL_MIGRATIONS};
pub use engine::{
    connect, connect_enrolled, pull_batch, push_batch, sync_now, sync_over, sync_through,
    SessionAccess, SyncReport,
};
pub use enrolment::{
    enroll, enroll_new_workstation, enroll_through, Enrolled, EnrolmentCode, NewWorkstation,
};
pub use server_tools::{
    add_clinic, add_workstation, connect_as_owner, make_certificate, revoke_workstation, status,
    verify_audit_chains, ChainCheck, ServerStatus,
};
pub use sign_in::{sign_in, sign_in_through_server};
pub use transport::{certificate_fingerprint, pem_certificate_fingerprint};
