//! A store as the previous release wrote it, for tests of restoring old backups and of updates
//! that migrate the store.

use clinicdesk_store::rusqlite::Connection;

/// Undoes the newest migration on a store, as if the previous release had written it: the
/// objects of the newest migration dropped, its ledger row removed. A new migration adds its arm.
pub fn downgrade_to_previous_schema(connection: &Connection) {
    let newest = clinicdesk_store::EMBEDDED_MIGRATIONS.last().unwrap();
    let outbox_payload_triggers: String;
    let undo = match newest.version {
        13 => {
            outbox_payload_triggers = clinicdesk_core::synced_tables()
                .map(|spec| {
                    format!(
                        "DROP TRIGGER {0}_outbox_payload_before_update; DROP TRIGGER {0}_outbox_payload_before_delete;",
                        spec.name
                    )
                })
                .collect();
            outbox_payload_triggers.as_str()
        }
        12 => {
            "DELETE FROM role_permissions WHERE permission = 'records.import';
             DELETE FROM permissions WHERE code = 'records.import';"
        }
        11 => {
            "DELETE FROM role_permissions WHERE permission IN ('records.export', 'records.export_patient');
             DELETE FROM permissions WHERE code IN ('records.export', 'records.export_patient');"
        }
        10 => {
            "DELETE FROM role_permissions WHERE permission = 'updates.manage';
             DELETE FROM permissions WHERE code = 'updates.manage';
             DELETE FROM settings WHERE key = 'update_endpoint';"
        }
        9 => {
            "DROP TABLE allergies; DROP TABLE allergy_confirmations; DROP TABLE medications;
             DROP TABLE medication_reviews; DROP TABLE problems;
             DELETE FROM role_permissions WHERE permission IN ('allergies.read', 'allergies.write',
                 'allergies.flag', 'medications.read', 'medications.write', 'medications.review',
                 'problems.read', 'problems.write');
             DELETE FROM permissions WHERE code IN ('allergies.read', 'allergies.write',
                 'allergies.flag', 'medications.read', 'medications.write', 'medications.review',
                 'problems.read', 'problems.write');"
        }
        8 => {
            "DROP TRIGGER clinics_journal_insert;
             DROP TRIGGER clinics_journal_update;
             ALTER TABLE clinics DROP COLUMN locale;"
        }
        7 => {
            "DROP TRIGGER users_journal_insert;
             DROP TRIGGER users_journal_update;
             ALTER TABLE users DROP COLUMN password_verifier;
             DROP TABLE remote_audit_entries;"
        }
        6 => {
            "DROP INDEX outbox_by_row;
             DROP INDEX sync_conflicts_by_row;
             ALTER TABLE sync_conflicts DROP COLUMN server_version;
             ALTER TABLE sync_conflicts DROP COLUMN reason;"
        }
        other => panic!("update this test for the newest migration ({other}): undo it here"),
    };
    connection.execute_batch(undo).unwrap();
    connection
        .execute(
            "DELETE FROM schema_migrations WHERE version = ?1",
            [newest.version],
        )
        .unwrap();
    assert_eq!(
        clinicdesk_store::applied_schema_version(connection).unwrap(),
        newest.version - 1
    );
}
