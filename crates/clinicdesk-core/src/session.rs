//! Sessions: init, login and recovery; the gate every operation passes (idle expiry, password
//! change, permission check with an audited denial); logoff; drafts.

use std::collections::BTreeSet;
use std::fs::{File, OpenOptions};

use chrono::{DateTime, Duration, Utc};
use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::{
    generate_recovery_key, normalise_recovery_key, DataKey, FailedLogin, KdfParams, KeySlotFile,
    KeySlotsDocument, SlotOwner, SlotSecret,
};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::{sql_error, DataDir};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::{AuditActor, AuditOutcome, NewAuditEntry};
use crate::environment::{format_timestamp, Environment};
use crate::ids::UserId;
use crate::password_policy::check_new_password;
use crate::permission::{Permission, Role};
use crate::recorded_write::RecordedWrite;
use crate::settings;
use crate::tables::Table;

/// The signed-in user, as the UI shows them.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

/// Why a session ended.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogoffReason {
    Manual,
    Idle,
}

/// What `init` tells the person who ran it, once.
pub struct InitOutcome {
    pub recovery_key: Zeroizing<String>,
    pub administrator: SessionUser,
}

/// What `init` needs.
pub struct InitRequest {
    pub clinic_name: String,
    pub time_zone: String,
    /// How the clinic writes dates, times and numbers; `None`: the one its time zone suggests.
    pub locale: Option<String>,
    pub admin_username: String,
    pub admin_display_name: String,
    pub admin_password: SlotSecret,
    /// Argon2id cost for the slots; [`KdfParams::calibrated`] in the product.
    pub kdf: KdfParams,
}

/// An unlocked store and the user who unlocked it. Dropping it drops the data key (zeroized).
pub struct Session {
    pub(crate) data_dir: DataDir,
    connection: Option<Connection>,
    data_key: Option<DataKey>,
    user: SessionUser,
    permissions: BTreeSet<Permission>,
    last_activity: DateTime<Utc>,
    idle_timeout: Duration,
    must_change_password: bool,
    ended: Option<LogoffReason>,
    pub(crate) environment: Environment,
    store_lock: Option<File>,
    /// Set when the store was found damaged: only the way out is allowed (see `store_health`).
    damage: Option<crate::store_health::DamageMark>,
}

/// What a damaged store still allows: finding, verifying and restoring a backup, checking the
/// store again, and seeing its health.
const ALLOWED_ON_A_DAMAGED_STORE: &[&str] = &[
    "backup.restore",
    "backup.restore_plan",
    "backup.list",
    "backup.status",
    "backup.verify",
    "backup.settings_read",
    "store.check",
    "store.health",
];

/// A second, private handle on the store for long work a session prepared (a backup, a verify,
/// the staging of a restore): its own connection, a copy of the data key and who asked. It holds
/// the store lock shared, as a session does, so no restore or key rotation swaps the store from
/// under it; the session it came from stays free for short work meanwhile. Dropping it drops the
/// key copy (zeroized).
pub(crate) struct StoreWorker {
    pub(crate) data_dir: DataDir,
    pub(crate) connection: Connection,
    pub(crate) data_key: DataKey,
    pub(crate) environment: Environment,
    pub(crate) actor: AuditActor,
    _store_lock: File,
}

impl StoreWorker {
    /// One recorded write on the worker's own connection (see [`Session::write`]).
    pub(crate) fn write<T>(
        &mut self,
        change: impl FnOnce(&mut RecordedWrite<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut write =
            RecordedWrite::begin(&mut self.connection, &self.environment, self.actor.clone())?;
        let outcome = change(&mut write)?;
        write.commit()?;
        Ok(outcome)
    }
}

/// Creates the store, the first administrator and a recovery slot.
pub fn init(
    data_dir: &DataDir,
    request: InitRequest,
    environment: &Environment,
) -> Result<InitOutcome> {
    let store_path = data_dir.store_file();
    if store_path.exists() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            format!(
                "{} already holds a Clinicdesk store; log in instead, or choose another --data-dir",
                data_dir.root().display()
            ),
        ));
    }
    let clinic_name = crate::validation::single_line(
        crate::validation::field("clinic_name", "the clinic name"),
        &request.clinic_name,
        crate::limits::CLINIC_NAME.max,
    )?;
    let username = crate::users::validate_username(&request.admin_username)
        .map_err(|error| error.for_field("admin_username"))?;
    let display_name = crate::users::validate_display_name(&request.admin_display_name)
        .map_err(|error| error.for_field("admin_display_name"))?;
    check_new_password(request.admin_password.as_str(), &username, &display_name)
        .map_err(|error| error.for_field("admin_password"))?;
    let time_zone = crate::time_zone::validate(&request.time_zone)
        .map_err(|error| error.for_field("time_zone"))?
        .name();
    let locale = match request.locale.as_deref().map(str::trim) {
        Some(chosen) if !chosen.is_empty() => crate::clinic_locale::validate_locale(chosen)?,
        _ => crate::clinic_locale::locale_for_time_zone(time_zone),
    };

    let administrator = SessionUser {
        id: UserId::from_store(environment.new_id().to_string()),
        username,
        display_name,
        role: Role::Administrator,
    };
    let seeded = administrator.clone();
    let verifier = clinicdesk_keyslot::make_verifier(request.kdf, &request.admin_password)?;
    build_new_store(
        data_dir,
        environment,
        NewStore {
            administrator,
            admin_password: &request.admin_password,
            clinic_name: &clinic_name,
            kdf: request.kdf,
        },
        |write| {
            let clinic = NewClinic {
                name: &clinic_name,
                time_zone,
                locale,
            };
            seed_new_store(write, clinic, &seeded, &verifier)
        },
    )
}

/// Who and what a new store is made for.
struct NewStore<'a> {
    administrator: SessionUser,
    admin_password: &'a SlotSecret,
    clinic_name: &'a str,
    kdf: KdfParams,
}

/// Makes a store in an empty data folder: built beside its final name, brought to this build's
/// schema, filled by `seed` in one recorded write (as the administrator), then given the
/// administrator's slot and a new recovery slot, and moved into place.
fn build_new_store(
    data_dir: &DataDir,
    environment: &Environment,
    new: NewStore<'_>,
    seed: impl FnOnce(&mut RecordedWrite<'_>) -> Result<()>,
) -> Result<InitOutcome> {
    create_private_folder(data_dir.root())?;
    let slots = KeySlotFile::new(data_dir.key_slot_file());
    let data_key = DataKey::generate();
    let now = environment.now();
    let building = data_dir.root().join("clinicdesk.db.init");
    for leftover in [
        building.clone(),
        building.with_extension("init-wal"),
        building.with_extension("init-shm"),
    ] {
        let _ = std::fs::remove_file(leftover);
    }
    {
        let mut connection = clinicdesk_store::create_store(&building, &data_key)?;
        crate::store_schema::bring_up_to_date(&mut connection, now, |_, _| Ok(()))?;
        let actor = AuditActor {
            user_id: Some(new.administrator.id.to_string()),
            username: Some(new.administrator.username.clone()),
        };
        let mut write = RecordedWrite::begin(&mut connection, environment, actor)?;
        seed(&mut write)?;
        write.commit()?;
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql_error("checkpointing the new store"))?;
    }
    let recovery_key = generate_recovery_key();
    let mut document = KeySlotsDocument::new(uuid::Uuid::new_v4(), new.clinic_name, new.kdf);
    document.put_slot(
        SlotOwner::user(&new.administrator.username),
        new.admin_password,
        &data_key,
    )?;
    document.put_slot(
        SlotOwner::Recovery,
        &normalise_recovery_key(&recovery_key),
        &data_key,
    )?;
    let _ = std::fs::remove_file(slots.path());
    slots.create(&document)?;
    std::fs::rename(&building, data_dir.store_file())?;
    File::open(data_dir.root())?.sync_all()?;
    Ok(InitOutcome {
        recovery_key,
        administrator: new.administrator,
    })
}

/// What a new workstation with an empty data folder takes from the central server to start its
/// store: the clinic's row, every account's row (they name each other), and which of them is the
/// enrolling administrator, with the password they choose for this workstation.
pub struct CentralSeed {
    pub clinic: serde_json::Value,
    pub users: Vec<serde_json::Value>,
    pub admin_username: String,
    pub admin_password: SlotSecret,
    pub kdf: KdfParams,
}

/// Creates the store of a new workstation from the central server's rows (see [`CentralSeed`]):
/// the clinic and the accounts exactly as the server holds them (no outbox rows: they are the
/// server's), a slot for the enrolling administrator and a new recovery key for this workstation.
/// Everything else arrives with the first pull.
pub fn init_from_central(
    data_dir: &DataDir,
    seed: CentralSeed,
    environment: &Environment,
) -> Result<InitOutcome> {
    let store_path = data_dir.store_file();
    if store_path.exists() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            format!(
                "{} already holds a Clinicdesk store; a workstation with records enrols without --new-store",
                data_dir.root().display()
            ),
        ));
    }
    let text = |row: &serde_json::Value, name: &str| {
        row.get(name)
            .and_then(|value| value.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let username = crate::users::validate_username(&seed.admin_username)
        .map_err(|error| error.for_field("admin_username"))?;
    let admin_row = seed
        .users
        .iter()
        .find(|row| text(row, "username") == username)
        .ok_or_else(|| {
            Error::invalid_field(
                "admin_username",
                format!("the clinic has no account {username:?} on the central server"),
            )
        })?;
    let active = admin_row.get("disabled").and_then(|v| v.as_i64()) == Some(0)
        && admin_row.get("deleted_at").is_none_or(|v| v.is_null());
    if text(admin_row, "role") != "administrator" || !active {
        return Err(Error::permission_denied(format!(
            "{username} is not an active administrator of the clinic; an administrator enrols a workstation"
        )));
    }
    let display_name = text(admin_row, "display_name");
    match admin_row.get("password_verifier").and_then(|v| v.as_str()) {
        // The administrator's own password, checked against the server's verifier.
        Some(verifier) => {
            if !clinicdesk_keyslot::verifier_accepts(verifier, &seed.admin_password)? {
                return Err(Error::new(
                    ErrorCode::AuthenticationFailed,
                    format!("that is not {username}'s password; use the password you sign in with on the clinic's other workstations"),
                )
                .for_field("admin_password"));
            }
        }
        // An account from before the server kept verifiers: the password chosen here.
        None => check_new_password(seed.admin_password.as_str(), &username, &display_name)
            .map_err(|error| error.for_field("admin_password"))?,
    }
    let clinic_name = text(&seed.clinic, "name");
    let clinic_id = text(&seed.clinic, "id");
    let administrator = SessionUser {
        id: UserId::parse(&text(admin_row, "id"))?,
        username: username.clone(),
        display_name,
        role: Role::Administrator,
    };

    build_new_store(
        data_dir,
        environment,
        NewStore {
            administrator,
            admin_password: &seed.admin_password,
            clinic_name: &clinic_name,
            kdf: seed.kdf,
        },
        |write| {
            write
                .execute_batch("PRAGMA defer_foreign_keys = ON")
                .map_err(sql_error("starting the store"))?;
            for row in &seed.users {
                crate::sync::put_server_row(write, Table::Users, row)?;
            }
            crate::sync::put_server_row(write, Table::Clinics, &seed.clinic)?;
            let stamp = write.stamp();
            record_store_facts(write, &stamp, &clinic_id)?;
            settings::seed_defaults(write, &stamp)?;
            let entry = write
                .entry("store.init")
                .object("clinic", &clinic_id)
                .details(serde_json::json!({
                    "clinic_name": clinic_name,
                    "from_central_server": true,
                    "accounts": seed.users.len(),
                }));
            write.audit(entry)?;
            Ok(())
        },
    )
}

pub(crate) fn create_private_folder(path: &std::path::Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|error| {
        Error::unexpected(format!(
            "cannot create the data folder {}: {error}",
            path.display()
        ))
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// When the store was made and which clinic it holds (`store_meta`).
fn record_store_facts(write: &RecordedWrite<'_>, stamp: &str, clinic_id: &str) -> Result<()> {
    for (key, value) in [("store_created_at", stamp), ("clinic_id", clinic_id)] {
        write
            .execute(
                "INSERT INTO store_meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(sql_error("recording store facts"))?;
    }
    Ok(())
}

/// The clinic a new store is made for.
struct NewClinic<'a> {
    name: &'a str,
    time_zone: &'a str,
    locale: &'a str,
}

fn seed_new_store(
    write: &mut RecordedWrite<'_>,
    clinic: NewClinic<'_>,
    administrator: &SessionUser,
    password_verifier: &str,
) -> Result<()> {
    let stamp = write.stamp();
    write.insert_row_with_id(
        Table::Users,
        administrator.id.as_str(),
        &[
            ("username", &administrator.username),
            ("display_name", &administrator.display_name),
            ("role", &administrator.role),
            ("password_changed_at", &stamp),
            ("password_verifier", &password_verifier),
        ],
    )?;
    let clinic_id = write.insert_row(
        Table::Clinics,
        &[
            ("name", &clinic.name),
            ("time_zone", &clinic.time_zone),
            ("locale", &clinic.locale),
        ],
    )?;
    record_store_facts(write, &stamp, &clinic_id)?;
    settings::seed_defaults(write, &stamp)?;
    let entry = write
        .entry("store.init")
        .object("clinic", &clinic_id)
        .details(serde_json::json!({
            "clinic_name": clinic.name,
            "time_zone": clinic.time_zone,
            "locale": clinic.locale,
        }));
    write.audit(entry)?;
    let after = write.row_json(Table::Users, administrator.id.as_str())?;
    let entry = write
        .entry("user.create")
        .object("user", administrator.id.as_str())
        .details(serde_json::json!({ "after": after }));
    write.audit(entry)?;
    Ok(())
}

/// Is there a store in this folder? (No key needed.)
pub fn store_exists(data_dir: &DataDir) -> bool {
    data_dir.store_file().exists() && data_dir.key_slot_file().exists()
}

/// The clinic's name as the key-slot file records it, for the login screen. No key needed.
pub fn clinic_name_before_login(data_dir: &DataDir) -> Result<String> {
    require_store(data_dir)?;
    Ok(KeySlotFile::new(data_dir.key_slot_file())
        .read()?
        .clinic_name)
}

pub(crate) fn require_store(data_dir: &DataDir) -> Result<()> {
    if !data_dir.store_file().exists() {
        return Err(Error::new(
            ErrorCode::StoreNotInitialized,
            format!(
                "there is no Clinicdesk store in {}; create one with `clinicdesk init`, or point --data-dir at the right folder",
                data_dir.root().display()
            ),
        ));
    }
    Ok(())
}

enum Attempt {
    Unlocked {
        data_key: DataKey,
        next_key: Option<DataKey>,
        unreported: Vec<(String, FailedLogin)>,
        generation: u64,
    },
    Refused(Error),
}

/// What a slot gave: the data key (and the next one during a rotation), and the failed logins
/// to report once the store is open.
struct Unlocked {
    data_key: DataKey,
    next_key: Option<DataKey>,
    unreported: Vec<(String, FailedLogin)>,
    generation: u64,
}

/// What the central server answers for a first sign-in it accepted: the secret of this
/// workstation's first-sign-in slot (hex) and the account's row as the server holds it.
pub struct FirstSignInGrant {
    pub unlock_secret: Zeroizing<String>,
    pub account: serde_json::Value,
}

fn session_user_id(transaction: &RecordedWrite<'_>) -> Result<String> {
    transaction
        .actor()
        .user_id
        .ok_or_else(|| Error::unexpected("the session has no user"))
}

impl Session {
    /// Unlocks the store with a user's password and opens a session.
    ///
    /// Failed attempts are counted in the key-slot file (readable before unlock); after the
    /// policy's number of failures the account locks for the policy's minutes. Failures reach the
    /// audit trail at the next successful unlock by anyone.
    pub fn login(
        data_dir: &DataDir,
        username: &str,
        password: &SlotSecret,
        environment: &Environment,
    ) -> Result<Session> {
        require_store(data_dir)?;
        let username = username.trim().to_lowercase();
        let owner = SlotOwner::user(&username);
        let slots = KeySlotFile::new(data_dir.key_slot_file());
        let now = environment.now();
        let attempt = slots.update(|document| {
            let policy = document.login_policy;
            let Some(slot) = document.slot(&owner) else {
                if document.slot(&SlotOwner::Workstation).is_some()
                    && data_dir.server_sign_in_file().exists()
                {
                    return Ok(Attempt::Refused(Error::new(
                        ErrorCode::SignInNeedsServer,
                        "This is a first sign-in on this workstation: the central server checks the password once",
                    )));
                }
                // Unknown or disabled user: spend the same Argon2id time, count nothing per user.
                let _ = document.default_kdf.derive(password, &[0u8; 16]);
                record_unreported(document, &username, now, &environment.workstation, false);
                return Ok(Attempt::Refused(Error::new(
                    ErrorCode::AuthenticationFailed,
                    "Wrong username or password; check both and try again (an administrator can reset a password)",
                )));
            };
            if let Some(until) = slot.lockout.locked_until.filter(|until| *until > now) {
                record_unreported(document, &username, now, &environment.workstation, false);
                return Ok(Attempt::Refused(account_locked(until)));
            }
            match document.unlock(&owner, password) {
                Ok(unlocked) => {
                    let slot = document.slot_mut(&owner).expect("slot exists");
                    slot.lockout.consecutive_failures = 0;
                    slot.lockout.locked_until = None;
                    let mut unreported = take_unreported(document);
                    unreported.sort_by_key(|(_, failure)| failure.at);
                    Ok(Attempt::Unlocked {
                        data_key: unlocked.data_key,
                        next_key: unlocked.next_data_key,
                        unreported,
                        generation: document.generation + 1,
                    })
                }
                Err(error) if error.code == ErrorCode::AuthenticationFailed => {
                    let slot = document.slot_mut(&owner).expect("slot exists");
                    slot.lockout.consecutive_failures += 1;
                    let locks = slot.lockout.consecutive_failures >= policy.max_failed_logins;
                    if locks {
                        slot.lockout.locked_until = Some(now + Duration::minutes(i64::from(policy.lock_minutes)));
                        slot.lockout.consecutive_failures = 0;
                    }
                    let locked_until = slot.lockout.locked_until;
                    record_unreported(document, &username, now, &environment.workstation, locks);
                    Ok(Attempt::Refused(match (locks, locked_until) {
                        (true, Some(until)) => account_locked(until),
                        _ => error,
                    }))
                }
                Err(other) => Err(other),
            }
        })?;
        let (data_key, next_key, unreported, generation) = match attempt {
            Attempt::Refused(error) => return Err(error),
            Attempt::Unlocked {
                data_key,
                next_key,
                unreported,
                generation,
            } => (data_key, next_key, unreported, generation),
        };
        Session::open_unlocked(
            data_dir,
            &username,
            Unlocked {
                data_key,
                next_key,
                unreported,
                generation,
            },
            environment,
            None::<fn(&mut RecordedWrite<'_>) -> Result<()>>,
        )
    }

    /// The first sign-in of `username` on this workstation, after the central server checked the
    /// password (`grant`): the workstation's first-sign-in slot opens the store, the account's
    /// row is brought to the server's version, and the user gets their own slot here, so the
    /// next sign-in needs no server.
    pub fn login_first_time(
        data_dir: &DataDir,
        username: &str,
        password: &SlotSecret,
        grant: FirstSignInGrant,
        environment: &Environment,
    ) -> Result<Session> {
        require_store(data_dir)?;
        let username = username.trim().to_lowercase();
        let slots = KeySlotFile::new(data_dir.key_slot_file());
        let secret = SlotSecret::new(grant.unlock_secret.to_string());
        let unlocked = slots.update(|document| {
            let unlocked = document
                .unlock(&SlotOwner::Workstation, &secret)
                .map_err(|error| {
                    if error.code == ErrorCode::AuthenticationFailed {
                        Error::integrity(
                            "the central server's first-sign-in secret does not open this workstation: an administrator signs in here and syncs, then try again",
                        )
                    } else {
                        error
                    }
                })?;
            let mut unreported = take_unreported(document);
            unreported.sort_by_key(|(_, failure)| failure.at);
            Ok(Unlocked {
                data_key: unlocked.data_key,
                next_key: unlocked.next_data_key,
                unreported,
                generation: document.generation + 1,
            })
        })?;
        let account = grant.account.clone();
        let expected = username.clone();
        let mut session = Session::open_unlocked(
            data_dir,
            &username,
            unlocked,
            environment,
            Some(move |write: &mut RecordedWrite<'_>| {
                let row_username = account.get("username").and_then(|v| v.as_str());
                if row_username != Some(expected.as_str()) {
                    return Err(Error::new(
                        ErrorCode::ServerRefused,
                        "the central server answered for another account; nothing was changed",
                    ));
                }
                crate::sync::put_account_from_server(write, &account)
            }),
        )?;
        {
            let data_key = session.data_key()?;
            slots.update(|document| {
                document.put_slot(SlotOwner::user(&session.user.username), password, data_key)
            })?;
        }
        session.write(|transaction| {
            let entry = transaction
                .entry("login.first_on_workstation")
                .object("user", session_user_id(transaction)?)
                .details(serde_json::json!({
                    "checked_by": "central server",
                    "meaning": "this person's password was checked by the central server and they now have a key slot on this workstation",
                }));
            transaction.audit(entry)?;
            Ok(())
        })?;
        Ok(session)
    }

    /// Opens the store with a key a slot gave, starts the session of `username` and records
    /// the login. `prepare` runs first, on the open store (a first sign-in brings the account's
    /// row up to date there).
    fn open_unlocked(
        data_dir: &DataDir,
        username: &str,
        unlocked: Unlocked,
        environment: &Environment,
        prepare: Option<impl FnOnce(&mut RecordedWrite<'_>) -> Result<()>>,
    ) -> Result<Session> {
        let Unlocked {
            data_key,
            next_key,
            unreported,
            generation,
        } = unlocked;
        let slots = KeySlotFile::new(data_dir.key_slot_file());
        let store_lock = shared_store_lock(data_dir)?;
        // Damage that keeps anyone from signing in: only the recovery key gets the clinic out.
        let unreadable = |error: Error| {
            if error.is_store_damage() {
                Error::store_unreadable()
            } else {
                error
            }
        };
        let (mut connection, data_key) =
            crate::keys::open_with_slot_keys(data_dir, &slots, data_key, next_key, environment)
                .map_err(unreadable)?;
        if let Some(prepare) = prepare {
            let actor = AuditActor {
                user_id: None,
                username: Some(username.to_owned()),
            };
            let mut write = RecordedWrite::begin(&mut connection, environment, actor)?;
            prepare(&mut write)?;
            write.commit()?;
        }
        let probed = clinicdesk_store::probe_root_pages(&data_dir.store_file(), &data_key);
        let mut session = Session::start(
            data_dir,
            connection,
            data_key,
            username,
            environment,
            Some(store_lock),
        )
        .map_err(unreadable)?;
        if let Err(error) = probed {
            if !error.is_store_damage() {
                return Err(error);
            }
            session.note_damage(&error);
        }
        match session.after_unlock(unreported, generation) {
            Ok(()) => {}
            // A damaged store is no reason to keep a manager from restoring it.
            Err(error) if error.is_store_damage() => session.note_damage(&error),
            Err(error) => return Err(error),
        }
        Ok(session)
    }

    fn start(
        data_dir: &DataDir,
        connection: Connection,
        data_key: DataKey,
        username: &str,
        environment: &Environment,
        store_lock: Option<File>,
    ) -> Result<Session> {
        let row = connection
            .query_row(
                "SELECT id, username, display_name, role, disabled, must_change_password FROM users
                 WHERE username = ?1 AND deleted_at IS NULL",
                [username],
                |row| {
                    Ok((
                        SessionUser {
                            id: row.get(0)?,
                            username: row.get(1)?,
                            display_name: row.get(2)?,
                            role: row.get(3)?,
                        },
                        row.get::<_, bool>(4)?,
                        row.get::<_, bool>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(sql_error("reading the user"))?;
        let Some((user, disabled, must_change_password)) = row else {
            return Err(Error::new(
                ErrorCode::AuthenticationFailed,
                "Wrong username or password; check both and try again",
            ));
        };
        if disabled {
            return Err(Error::new(
                ErrorCode::AccountDisabled,
                "This account is disabled; ask an administrator to enable it",
            ));
        }
        let permissions = load_permissions(&connection, user.role)?;
        let idle_timeout =
            Duration::seconds(settings::read_integer(&connection, "idle_logoff_seconds")?);
        Ok(Session {
            data_dir: data_dir.clone(),
            connection: Some(connection),
            data_key: Some(data_key),
            user,
            permissions,
            last_activity: environment.now(),
            idle_timeout,
            must_change_password,
            ended: None,
            environment: environment.clone(),
            store_lock,
            damage: crate::store_health::read_mark(data_dir),
        })
    }

    /// Writes the failures counted before unlock, a rollback warning if the key-slot file went
    /// back in time, and the login itself, in one transaction.
    fn after_unlock(
        &mut self,
        unreported: Vec<(String, FailedLogin)>,
        generation: u64,
    ) -> Result<()> {
        let now = self.environment.now();
        let user = self.user.clone();
        let must_change = self.must_change_password;
        self.write(|transaction| {
            for (username, failure) in &unreported {
                let user_id: Option<String> = transaction
                    .query_row("SELECT id FROM users WHERE username = ?1", [username], |row| row.get(0))
                    .optional()
                    .map_err(sql_error("reading a user"))?;
                let actor = AuditActor { user_id, username: Some(username.clone()) };
                transaction.audit(
                    NewAuditEntry::new(failure.at, actor.clone(), "login.failure", AuditOutcome::Failure)
                        .workstation(&failure.workstation)
                        .details(serde_json::json!({ "reported_at": format_timestamp(now) })),
                )?;
                if failure.locked_account {
                    transaction.audit(
                        NewAuditEntry::new(failure.at, actor, "login.lockout", AuditOutcome::Failure)
                            .workstation(&failure.workstation),
                    )?;
                }
            }
            let seen: Option<u64> = transaction
                .query_row("SELECT value FROM store_meta WHERE key = 'keyslot_generation'", [], |row| {
                    row.get::<_, String>(0)
                })
                .optional()
                .map_err(sql_error("reading store facts"))?
                .and_then(|text| text.parse().ok());
            let actor = transaction.actor();
            if let Some(seen) = seen.filter(|seen| *seen > generation) {
                transaction.audit(NewAuditEntry::new(now, actor.clone(), "security.keyslot_rollback", AuditOutcome::Failure).details(
                        serde_json::json!({
                            "store_saw_generation": seen,
                            "file_generation": generation,
                            "meaning": "the key-slot file was replaced by an older copy; failed-login counters may have been reset"
                        }),
                    ),
                )?;
            }
            transaction
                .execute(
                    "INSERT INTO store_meta (key, value) VALUES ('keyslot_generation', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [generation.max(seen.unwrap_or(0)).to_string()],
                )
                .map_err(sql_error("recording store facts"))?;
            transaction
                .execute(
                    "INSERT INTO user_sign_ins (user_id, last_login_at) VALUES (?1, ?2)
                     ON CONFLICT (user_id) DO UPDATE SET last_login_at = excluded.last_login_at",
                    params![user.id, format_timestamp(now)],
                )
                .map_err(sql_error("recording the login"))?;
            transaction.audit(transaction.entry("login.success")
                    .details(serde_json::json!({ "must_change_password": must_change })),
            )?;
            Ok(())
        })
    }

    /// Unlocks with the recovery key and sets a new password for an administrator.
    pub fn recover_administrator(
        data_dir: &DataDir,
        recovery_key: &str,
        admin_username: &str,
        new_password: &SlotSecret,
        environment: &Environment,
    ) -> Result<()> {
        require_store(data_dir)?;
        let slots = KeySlotFile::new(data_dir.key_slot_file());
        let unlocked = slots.read()?.unlock(&SlotOwner::Recovery, &normalise_recovery_key(recovery_key)).map_err(|error| {
            if error.code == ErrorCode::AuthenticationFailed {
                Error::new(ErrorCode::AuthenticationFailed, "that recovery key does not open this store; check it against the copy you stored at setup")
            } else {
                error
            }
        })?;
        let store_lock = shared_store_lock(data_dir)?;
        let (connection, data_key) = crate::keys::open_with_slot_keys(
            data_dir,
            &slots,
            unlocked.data_key,
            unlocked.next_data_key,
            environment,
        )?;
        let username = admin_username.trim().to_lowercase();
        let admin: Option<(UserId, String, Role)> = connection
            .query_row(
                "SELECT id, display_name, role FROM users WHERE username = ?1 AND deleted_at IS NULL",
                [&username],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(sql_error("reading the user"))?;
        let Some((user_id, display_name, role)) = admin else {
            return Err(Error::not_found(format!(
                "there is no user named {username} in this store"
            )));
        };
        if role != Role::Administrator {
            return Err(Error::invalid_input(format!(
                "{username} is a {role}, not an administrator; the recovery key resets administrator passwords only"
            )));
        }
        check_new_password(new_password.as_str(), &username, &display_name)?;
        slots.update(|document| {
            document.put_slot(SlotOwner::user(&username), new_password, &data_key)?;
            if let Some(slot) = document.slot_mut(&SlotOwner::user(&username)) {
                slot.lockout = Default::default();
            }
            Ok(())
        })?;
        let mut session = Session {
            data_dir: data_dir.clone(),
            connection: Some(connection),
            data_key: Some(data_key),
            user: SessionUser {
                id: user_id.clone(),
                username: username.clone(),
                display_name,
                role,
            },
            permissions: BTreeSet::new(),
            last_activity: environment.now(),
            idle_timeout: Duration::seconds(600),
            must_change_password: false,
            ended: None,
            environment: environment.clone(),
            store_lock: Some(store_lock),
            damage: None,
        };
        let now = environment.now();
        let verifier = session.password_verifier(new_password)?;
        session.write(|transaction| {
            let before = transaction.row_json(Table::Users, &user_id)?;
            transaction
                .execute(
                    "UPDATE users SET disabled = 0, must_change_password = 0, password_verifier = ?3,
                        password_changed_at = ?1, updated_at = ?1, version = version + 1 WHERE id = ?2",
                    params![format_timestamp(now), user_id, verifier],
                )
                .map_err(sql_error("updating the administrator"))?;
            transaction.updated(Table::Users, &user_id)?;
            let after = transaction.row_json(Table::Users, &user_id)?;
            transaction.audit(NewAuditEntry::new(now, AuditActor { user_id: None, username: Some("recovery-key".into()) }, "recovery.password_reset", AuditOutcome::Success)
                    .object("user", &user_id)
                    .details(serde_json::json!({ "before": before, "after": after })),
            )?;
            Ok(())
        })?;
        session.logoff(LogoffReason::Manual)
    }

    pub fn user(&self) -> &SessionUser {
        &self.user
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    pub fn permissions(&self) -> &BTreeSet<Permission> {
        &self.permissions
    }

    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    pub(crate) fn set_idle_timeout(&mut self, timeout: Duration) {
        self.idle_timeout = timeout;
    }

    /// When and how the store was found damaged, if it was.
    pub fn store_damage(&self) -> Option<&crate::store_health::DamageMark> {
        self.damage.as_ref()
    }

    /// Remembers what an operation met: an error saying the store is damaged leaves the damage
    /// mark, and from then on only the way out is allowed. The shells pass every outcome here.
    pub fn note_outcome<T>(&mut self, outcome: &Result<T>) {
        if let Err(error) = outcome {
            if error.is_store_damage() {
                self.note_damage(error);
            }
        }
    }

    fn note_damage(&mut self, error: &Error) {
        crate::store_health::write_mark(&self.data_dir, error, self.environment.now());
        self.damage = crate::store_health::read_mark(&self.data_dir);
    }

    /// After a restore swapped a sound store in.
    pub(crate) fn forget_damage(&mut self) {
        crate::store_health::clear_mark(&self.data_dir);
        self.damage = None;
    }

    pub fn is_active(&self) -> bool {
        self.ended.is_none()
    }

    pub fn last_activity(&self) -> DateTime<Utc> {
        self.last_activity
    }

    pub fn data_dir(&self) -> &DataDir {
        &self.data_dir
    }

    pub(crate) fn actor(&self) -> AuditActor {
        AuditActor {
            user_id: Some(self.user.id.to_string()),
            username: Some(self.user.username.clone()),
        }
    }

    pub(crate) fn connection(&self) -> Result<&Connection> {
        self.connection.as_ref().ok_or_else(session_expired)
    }

    pub(crate) fn data_key(&self) -> Result<&DataKey> {
        self.data_key.as_ref().ok_or_else(session_expired)
    }

    /// A handle on the store of its own for long work this session authorised.
    pub(crate) fn store_worker(&self) -> Result<StoreWorker> {
        let data_key = self.data_key()?.duplicate();
        let store_lock = shared_store_lock(&self.data_dir)?;
        let connection = clinicdesk_store::open_store(&self.data_dir.store_file(), &data_key)?;
        Ok(StoreWorker {
            data_dir: self.data_dir.clone(),
            connection,
            data_key,
            environment: self.environment.clone(),
            actor: self.actor(),
            _store_lock: store_lock,
        })
    }

    pub(crate) fn replace_store(&mut self, connection: Connection, data_key: DataKey) {
        self.connection = Some(connection);
        self.data_key = Some(data_key);
    }

    pub(crate) fn take_connection(&mut self) -> Option<Connection> {
        self.connection.take()
    }

    /// Runs `work` while no other Clinicdesk window or command has the store open (key
    /// rotation, restore): refused with a conflict otherwise.
    pub(crate) fn with_exclusive_store_lock<T>(
        &mut self,
        work: impl FnOnce(&mut Session) -> Result<T>,
    ) -> Result<T> {
        self.store_lock = None;
        let exclusive = store_lock_file(&self.data_dir)?;
        if exclusive.try_lock().is_err() {
            self.store_lock = Some(shared_store_lock(&self.data_dir)?);
            return Err(Error::conflict(
                "the store is open in another Clinicdesk window or command on this workstation; close it and try again",
            ));
        }
        let outcome = work(self);
        drop(exclusive);
        self.store_lock = Some(shared_store_lock(&self.data_dir)?);
        outcome
    }

    /// The gate in front of every operation: the session must be live (idle logoff is decided
    /// here, from the injected clock), a temporary password must have been changed, and the
    /// role must hold `permission`. A denial is audited and changes nothing else.
    pub(crate) fn authorize(
        &mut self,
        operation: &str,
        permission: Option<Permission>,
        patient_id: Option<&str>,
    ) -> Result<DateTime<Utc>> {
        self.check_live()?;
        if let Some(damage) = &self.damage {
            if !ALLOWED_ON_A_DAMAGED_STORE.contains(&operation) {
                return Err(damage.error());
            }
        }
        let now = self.environment.now();
        // Sync runs in the background: it is not the person's activity (it must not keep an
        // idle session open) and not theirs to refuse for a temporary password.
        if BACKGROUND_OPERATIONS.contains(&operation) {
            return Ok(now);
        }
        if self.must_change_password {
            return Err(Error::new(
                ErrorCode::PasswordChangeRequired,
                "You are signed in with a temporary password; choose a new one first",
            ));
        }
        if let Some(permission) = permission {
            if !self.permissions.contains(&permission) {
                self.audit_denial(now, operation, permission, patient_id)?;
                return Err(Error::permission_denied(format!(
                    "your role ({}) may not {}; ask a colleague whose role allows it",
                    self.user.role,
                    operation.replace(['.', '_'], " ")
                )));
            }
        }
        self.last_activity = now;
        Ok(now)
    }

    /// Ends the session if it has been idle too long; any later call fails with session expired.
    pub(crate) fn check_live(&mut self) -> Result<()> {
        if self.ended.is_some() {
            return Err(session_expired());
        }
        let now = self.environment.now();
        if now - self.last_activity >= self.idle_timeout {
            let idle_at = self.last_activity + self.idle_timeout;
            self.end(LogoffReason::Idle, idle_at)?;
            return Err(Error::new(
                ErrorCode::SessionExpired,
                format!(
                    "You were logged off after {} without activity; log in again",
                    match self.idle_timeout.num_seconds() / 60 {
                        1 => "1 minute".to_owned(),
                        minutes => format!("{minutes} minutes"),
                    }
                ),
            ));
        }
        Ok(())
    }

    /// Records activity (the UI calls this on input) and reports the time left before logoff.
    pub fn touch(&mut self) -> Result<Duration> {
        self.check_live()?;
        self.last_activity = self.environment.now();
        Ok(self.idle_timeout)
    }

    /// Time left before idle logoff, without counting as activity.
    pub fn idle_time_left(&mut self) -> Result<Duration> {
        self.check_live()?;
        Ok(self.idle_timeout - (self.environment.now() - self.last_activity))
    }

    fn audit_denial(
        &mut self,
        now: DateTime<Utc>,
        operation: &str,
        permission: Permission,
        patient_id: Option<&str>,
    ) -> Result<()> {
        let actor = self.actor();
        let role = self.user.role;
        self.write(|transaction| {
            let mut entry =
                NewAuditEntry::new(now, actor, "permission.denied", AuditOutcome::Denied).details(
                    serde_json::json!({
                        "operation": operation,
                        "permission": permission.code(),
                        "role": role,
                    }),
                );
            if let Some(patient_id) = patient_id {
                entry = entry.patient(patient_id);
            }
            transaction.audit(entry)?;
            Ok(())
        })
    }

    /// Runs `change` as one [`RecordedWrite`]: the change, its audit entries, its outbox rows
    /// and its change-journal rows commit together or not at all.
    pub(crate) fn write<T>(
        &mut self,
        change: impl FnOnce(&mut RecordedWrite<'_>) -> Result<T>,
    ) -> Result<T> {
        let actor = self.actor();
        let connection = self.connection.as_mut().ok_or_else(session_expired)?;
        let mut write = RecordedWrite::begin(connection, &self.environment, actor)?;
        let outcome = change(&mut write)?;
        write.commit()?;
        Ok(outcome)
    }

    /// Logs off: audited, then the data key is dropped (zeroized) and the store closed.
    pub fn logoff(&mut self, reason: LogoffReason) -> Result<()> {
        if self.ended.is_some() {
            return Ok(());
        }
        let now = self.environment.now();
        self.end(reason, now)
    }

    fn end(&mut self, reason: LogoffReason, at: DateTime<Utc>) -> Result<()> {
        let actor = self.actor();
        let action = match reason {
            LogoffReason::Manual => "logoff.manual",
            LogoffReason::Idle => "logoff.idle",
        };
        let written = self.write(|transaction| {
            transaction.audit(NewAuditEntry::new(at, actor, action, AuditOutcome::Success))?;
            Ok(())
        });
        self.ended = Some(reason);
        self.data_key = None;
        self.connection = None;
        self.store_lock = None;
        written
    }

    /// Keeps an unsaved form for this user, to offer back after the next login.
    pub fn save_draft(&mut self, form_key: &str, payload: &serde_json::Value) -> Result<()> {
        let now = self.authorize_any_user()?;
        let form_key = &crate::validation::single_line(
            crate::validation::field("form_key", "the form's name"),
            form_key,
            crate::limits::FORM_KEY.max,
        )?;
        let text = payload.to_string();
        if text.len() > 1_000_000 {
            return Err(Error::invalid_field(
                "payload",
                "This unsaved form is larger than 1 MB and cannot be kept",
            ));
        }
        let user_id = self.user.id.clone();
        self.write(|transaction| {
            transaction
                .execute(
                    "INSERT INTO drafts (user_id, form_key, payload, saved_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (user_id, form_key) DO UPDATE SET payload = excluded.payload, saved_at = excluded.saved_at",
                    params![user_id, form_key, payload.to_string(), format_timestamp(now)],
                )
                .map_err(sql_error("saving the draft"))?;
            Ok(())
        })
    }

    /// This user's drafts (never another user's), newest first.
    pub fn drafts(&mut self) -> Result<Vec<Draft>> {
        self.authorize_any_user()?;
        let connection = self.connection()?;
        let mut statement = connection
            .prepare("SELECT form_key, payload, saved_at FROM drafts WHERE user_id = ?1 ORDER BY saved_at DESC")
            .map_err(sql_error("reading drafts"))?;
        let rows = statement
            .query_map([&self.user.id], |row| {
                let payload: String = row.get(1)?;
                Ok(Draft {
                    form_key: row.get(0)?,
                    payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
                    saved_at: row.get(2)?,
                    patient: None,
                })
            })
            .map_err(sql_error("reading drafts"))?;
        let mut drafts = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("reading drafts"))?;
        // A chart form's key names the patient's MRN: say whose form it was.
        for draft in &mut drafts {
            if let Some((_, mrn)) = draft.form_key.split_once(':') {
                draft.patient = connection
                    .query_row(
                        "SELECT given_name || ' ' || family_name FROM patients WHERE mrn = ?1 AND deleted_at IS NULL",
                        [mrn],
                        |row| row.get(0),
                    )
                    .optional()
                    .map_err(sql_error("reading drafts"))?;
            }
        }
        Ok(drafts)
    }

    /// Drops a draft once it was restored or the user discarded it.
    pub fn discard_draft(&mut self, form_key: &str) -> Result<()> {
        self.authorize_any_user()?;
        let user_id = self.user.id.clone();
        self.write(|transaction| {
            transaction
                .execute(
                    "DELETE FROM drafts WHERE user_id = ?1 AND form_key = ?2",
                    params![user_id, form_key],
                )
                .map_err(sql_error("discarding the draft"))?;
            Ok(())
        })
    }

    /// Changes the signed-in user's own password (also how a temporary one is replaced).
    pub fn change_password(
        &mut self,
        current: &SlotSecret,
        new_password: &SlotSecret,
    ) -> Result<()> {
        self.check_live()?;
        let now = self.environment.now();
        check_new_password(
            new_password.as_str(),
            &self.user.username,
            &self.user.display_name,
        )?;
        if current.as_str() == new_password.as_str() {
            return Err(Error::new(
                ErrorCode::WeakPassword,
                "the new password must differ from the current one",
            ));
        }
        let owner = SlotOwner::user(&self.user.username);
        KeySlotFile::new(self.data_dir.key_slot_file())
            .update(|document| document.change_slot_secret(&owner, current, new_password))
            .map_err(|error| {
                if error.code == ErrorCode::AuthenticationFailed {
                    Error::new(
                        ErrorCode::AuthenticationFailed,
                        "the current password is not right; nothing was changed",
                    )
                } else {
                    error
                }
            })?;
        let user_id = self.user.id.clone();
        let was_temporary = self.must_change_password;
        let verifier = self.password_verifier(new_password)?;
        self.write(|transaction| {
            transaction
                .execute(
                    "UPDATE users SET must_change_password = 0, password_changed_at = ?1, updated_at = ?1,
                        updated_by = ?2, version = version + 1, password_verifier = ?3 WHERE id = ?2",
                    params![format_timestamp(now), user_id, verifier],
                )
                .map_err(sql_error("recording the password change"))?;
            transaction.updated(Table::Users, &user_id)?;
            transaction.audit(transaction.entry("user.password_change")
                    .object("user", &user_id)
                    .details(serde_json::json!({ "replaced_temporary_password": was_temporary })),
            )?;
            Ok(())
        })?;
        self.must_change_password = false;
        self.last_activity = now;
        Ok(())
    }

    /// A verifier of `password` for the central server, at this store's Argon2id cost.
    pub(crate) fn password_verifier(&self, password: &SlotSecret) -> Result<String> {
        let kdf = KeySlotFile::new(self.data_dir.key_slot_file())
            .read()?
            .default_kdf;
        clinicdesk_keyslot::make_verifier(kdf, password)
    }

    pub(crate) fn authorize_any_user(&mut self) -> Result<DateTime<Utc>> {
        self.authorize("use", None, None)
    }
}

/// A saved, unsubmitted form.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub form_key: String,
    pub payload: serde_json::Value,
    pub saved_at: String,
    /// Whose chart the form was for (a vitals or note form), by name.
    #[serde(default)]
    pub patient: Option<String>,
}

/// Notes a first sign-in the central server refused (wrong password, disabled account): it
/// reaches this workstation's audit trail at the next sign-in here, as other failures do.
pub fn note_failed_first_sign_in(
    data_dir: &DataDir,
    username: &str,
    environment: &Environment,
) -> Result<()> {
    let now = environment.now();
    KeySlotFile::new(data_dir.key_slot_file()).update(|document| {
        record_unreported(
            document,
            &username.trim().to_lowercase(),
            now,
            &environment.workstation,
            false,
        );
        Ok(())
    })
}

/// Operations a session runs on its own, not on the person's behalf.
const BACKGROUND_OPERATIONS: &[&str] = &["sync.run", "sync.status"];

fn session_expired() -> Error {
    Error::new(
        ErrorCode::SessionExpired,
        "Your session has ended; log in again",
    )
}

fn account_locked(until: DateTime<Utc>) -> Error {
    Error::new(
        ErrorCode::AccountLocked,
        format!(
            "This account is locked after too many failed logins until {} UTC; try again then, or ask an administrator to reset the password",
            until.format("%Y-%m-%d %H:%M")
        ),
    )
}

const MAX_UNREPORTED: usize = 1000;

fn record_unreported(
    document: &mut KeySlotsDocument,
    username: &str,
    at: DateTime<Utc>,
    workstation: &str,
    locked: bool,
) {
    let failure = FailedLogin {
        at,
        workstation: workstation.to_owned(),
        locked_account: locked,
    };
    let owner = SlotOwner::user(username);
    let slot_index = document.slots.iter().position(|slot| slot.owner == owner);
    // Failures of unknown names are kept on the recovery slot, so they reach the trail too.
    let index = slot_index.or_else(|| {
        document
            .slots
            .iter()
            .position(|slot| slot.owner == SlotOwner::Recovery)
    });
    if let Some(index) = index {
        let list = &mut document.slots[index].lockout.unreported;
        if slot_index.is_none() {
            // Keep the attempted name for the trail.
            list.push(FailedLogin {
                workstation: format!("{workstation}\u{1f}{username}"),
                ..failure
            });
        } else {
            list.push(failure);
        }
        if list.len() > MAX_UNREPORTED {
            let excess = list.len() - MAX_UNREPORTED;
            list.drain(..excess);
        }
    }
}

fn take_unreported(document: &mut KeySlotsDocument) -> Vec<(String, FailedLogin)> {
    let mut all = Vec::new();
    for slot in &mut document.slots {
        let failures = std::mem::take(&mut slot.lockout.unreported);
        for failure in failures {
            match &slot.owner {
                SlotOwner::User(name) => all.push((name.clone(), failure)),
                SlotOwner::Recovery | SlotOwner::Workstation => {
                    let (workstation, name) = failure
                        .workstation
                        .split_once('\u{1f}')
                        .map(|(w, n)| (w.to_owned(), n.to_owned()))
                        .unwrap_or((failure.workstation.clone(), String::from("unknown")));
                    all.push((
                        name,
                        FailedLogin {
                            workstation,
                            ..failure
                        },
                    ));
                }
            }
        }
    }
    all
}

/// The store lock held alone, for work on the store file with no session (a restore over an
/// unreadable store): refused while any window or command of this workstation has it open.
pub(crate) fn exclusive_store_lock(data_dir: &DataDir) -> Result<File> {
    let file = store_lock_file(data_dir)?;
    if file.try_lock().is_err() {
        return Err(Error::conflict(
            "the store is open in another Clinicdesk window or command on this workstation; close it and try again",
        ));
    }
    Ok(file)
}

pub(crate) fn shared_store_lock(data_dir: &DataDir) -> Result<File> {
    let file = store_lock_file(data_dir)?;
    file.lock_shared()?;
    Ok(file)
}

/// `clinicdesk.lock`: every session holds it shared; work that must be alone, exclusively.
fn store_lock_file(data_dir: &DataDir) -> Result<File> {
    Ok(OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.store_lock_file())?)
}

fn load_permissions(connection: &Connection, role: Role) -> Result<BTreeSet<Permission>> {
    let mut statement = connection
        .prepare("SELECT permission FROM role_permissions WHERE role = ?1")
        .map_err(sql_error("reading the role's permissions"))?;
    let codes = statement
        .query_map([role.code()], |row| row.get::<_, String>(0))
        .map_err(sql_error("reading the role's permissions"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_error("reading the role's permissions"))?;
    Ok(codes
        .iter()
        .filter_map(|code| Permission::from_code(code))
        .collect())
}
