//! The central schema: the ordered SQL files of `migrations/postgres/`, applied by `server init`
//! and `server migrate` with the same rules as a workstation's store (an applied file that was
//! edited is refused by its checksum; a server newer than this build is refused).

use clinicdesk_core::{Error, ErrorCode, Result};
use postgres::Client;
use sha2::{Digest, Sha256};

use crate::transport::server_error;

/// One file of `migrations/postgres/`.
pub struct CentralMigration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every central migration, in order.
pub const CENTRAL_MIGRATIONS: &[CentralMigration] = &[
    CentralMigration {
        version: 1,
        name: "central_schema",
        sql: include_str!("../../../migrations/postgres/0001_central_schema.sql"),
    },
    CentralMigration {
        version: 2,
        name: "push_and_enrolment",
        sql: include_str!("../../../migrations/postgres/0002_push_and_enrolment.sql"),
    },
    CentralMigration {
        version: 3,
        name: "accounts_and_sign_in",
        sql: include_str!("../../../migrations/postgres/0003_accounts_and_sign_in.sql"),
    },
    CentralMigration {
        version: 4,
        name: "clinic_locale",
        sql: include_str!("../../../migrations/postgres/0004_clinic_locale.sql"),
    },
    CentralMigration {
        version: 5,
        name: "allergies_medications_problems",
        sql: include_str!("../../../migrations/postgres/0005_allergies_medications_problems.sql"),
    },
];

/// The schema version this build speaks.
pub fn current_version() -> i32 {
    CENTRAL_MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

const LEDGER: &str = "CREATE TABLE IF NOT EXISTS public.clinicdesk_schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())";

fn applied(client: &mut Client) -> Result<Vec<(i32, String, String)>> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('public.clinicdesk_schema_migrations') IS NOT NULL",
            &[],
        )
        .map_err(|e| server_error("reading the schema version", e))?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    Ok(client
        .query(
            "SELECT version, name, checksum FROM public.clinicdesk_schema_migrations ORDER BY version",
            &[],
        )
        .map_err(|e| server_error("reading the schema version", e))?
        .into_iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

/// Checks the applied migrations against this build's; returns how many are applied.
fn check_ledger(applied: &[(i32, String, String)]) -> Result<usize> {
    for (version, name, sum) in applied {
        let Some(known) = CENTRAL_MIGRATIONS.iter().find(|m| m.version == *version) else {
            return Err(Error::new(
                ErrorCode::ServerSchemaMismatch,
                format!(
                    "The central server's schema is newer (version {version}, {name}) than this Clinicdesk knows ({}); update Clinicdesk",
                    current_version()
                ),
            ));
        };
        if checksum(known.sql) != *sum {
            return Err(Error::new(
                ErrorCode::MigrationMismatch,
                format!("Central migration {version} ({name}) was changed after it was applied; the server's schema is not this build's"),
            ));
        }
    }
    Ok(applied.len())
}

/// Creates the central schema on an empty database. Refused where it already exists.
pub fn init(client: &mut Client) -> Result<i32> {
    if !applied(client)?.is_empty() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            "This database already holds the Clinicdesk central schema; use `server migrate`",
        ));
    }
    migrate(client)
}

/// Applies the migrations this server lacks, each in its own transaction with its ledger row.
pub fn migrate(client: &mut Client) -> Result<i32> {
    client
        .batch_execute(LEDGER)
        .map_err(|e| server_error("creating the migration ledger", e))?;
    let done = check_ledger(&applied(client)?)?;
    for migration in &CENTRAL_MIGRATIONS[done..] {
        let mut transaction = client
            .transaction()
            .map_err(|e| server_error("starting a migration", e))?;
        transaction.batch_execute(migration.sql).map_err(|e| {
            server_error(
                &format!("applying central migration {}", migration.version),
                e,
            )
        })?;
        transaction
            .execute(
                "INSERT INTO public.clinicdesk_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[&migration.version, &migration.name, &checksum(migration.sql)],
            )
            .map_err(|e| server_error("recording a migration", e))?;
        transaction
            .commit()
            .map_err(|e| server_error("committing a migration", e))?;
    }
    client
        .batch_execute(
            "GRANT SELECT ON public.clinicdesk_schema_migrations TO clinicdesk_workstation",
        )
        .map_err(|e| server_error("granting the ledger", e))?;
    Ok(current_version())
}

/// Refuses to sync with a server whose schema is not this build's.
pub fn check_server_version(client: &mut Client) -> Result<()> {
    let version: Option<i32> = client
        .query_one(
            "SELECT max(version) FROM public.clinicdesk_schema_migrations",
            &[],
        )
        .map_err(|e| server_error("reading the server's schema version", e))?
        .get(0);
    let version = version.unwrap_or(0);
    if version != current_version() {
        return Err(Error::new(
            ErrorCode::ServerSchemaMismatch,
            if version > current_version() {
                format!("The central server's schema (version {version}) is newer than this Clinicdesk ({}); update Clinicdesk on this workstation", current_version())
            } else {
                format!("The central server's schema (version {version}) is older than this Clinicdesk ({}); run `clinicdesk server migrate` on the server", current_version())
            },
        ));
    }
    Ok(())
}
