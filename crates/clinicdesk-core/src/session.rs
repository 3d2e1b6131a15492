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
use clinicdesk_store::rusqlite::{
    params, Connection, OptionalExtension, Transaction, TransactionBehavior,
};
use clinicdesk_store::{sql_error, DataDir};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::{self, AuditActor, AuditOutcome, NewAuditEntry};
use crate::environment::{format_timestamp, Environment};
use crate::password_policy::check_new_password;
use crate::permission::{Permission, Role};
use crate::{changes, settings};

/// The signed-in user, as the UI shows them.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: String,
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
    let clinic_name = request.clinic_name.trim().to_owned();
    if clinic_name.is_empty() || clinic_name.chars().count() > 200 {
        return Err(Error::invalid_input(
            "the clinic name must be 1 to 200 characters",
        ));
    }
    let username = crate::users::validate_username(&request.admin_username)?;
    let display_name = crate::users::validate_display_name(&request.admin_display_name)?;
    check_new_password(request.admin_password.as_str(), &username, &display_name)?;
    crate::time_zone::validate(&request.time_zone)?;

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
    let administrator = {
        let mut connection = clinicdesk_store::create_store(&building, &data_key)?;
        clinicdesk_store::migrate(
            &mut connection,
            clinicdesk_store::EMBEDDED_MIGRATIONS,
            &format_timestamp(now),
            |_, _| Ok(()),
        )?;
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error("starting init"))?;
        let administrator = seed_new_store(
            &transaction,
            environment,
            now,
            &clinic_name,
            &request.time_zone,
            &username,
            &display_name,
        )?;
        transaction.commit().map_err(sql_error("committing init"))?;
        connection
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(sql_error("checkpointing the new store"))?;
        administrator
    };
    let recovery_key = generate_recovery_key();
    let mut document = KeySlotsDocument::new(uuid::Uuid::new_v4(), &clinic_name, request.kdf);
    document.put_slot(
        SlotOwner::user(&username),
        &request.admin_password,
        &data_key,
    )?;
    document.put_slot(
        SlotOwner::Recovery,
        &normalise_recovery_key(&recovery_key),
        &data_key,
    )?;
    let _ = std::fs::remove_file(slots.path());
    slots.create(&document)?;
    std::fs::rename(&building, &store_path)?;
    File::open(data_dir.root())?.sync_all()?;
    Ok(InitOutcome {
        recovery_key,
        administrator,
    })
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

fn seed_new_store(
    transaction: &Transaction<'_>,
    environment: &Environment,
    now: DateTime<Utc>,
    clinic_name: &str,
    time_zone: &str,
    username: &str,
    display_name: &str,
) -> Result<SessionUser> {
    let stamp = format_timestamp(now);
    let clinic_id = environment.new_id().to_string();
    let user_id = environment.new_id().to_string();
    transaction
        .execute(
            "INSERT INTO users (id, created_at, updated_at, username, display_name, role, password_changed_at)
             VALUES (?1, ?2, ?2, ?3, ?4, 'administrator', ?2)",
            params![user_id, stamp, username, display_name],
        )
        .map_err(sql_error("creating the administrator"))?;
    transaction
        .execute(
            "INSERT INTO clinics (id, created_at, created_by, updated_at, updated_by, name, time_zone)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5)",
            params![clinic_id, stamp, user_id, clinic_name, time_zone],
        )
        .map_err(sql_error("creating the clinic"))?;
    for (key, value) in [
        ("store_created_at", stamp.as_str()),
        ("clinic_id", clinic_id.as_str()),
    ] {
        transaction
            .execute(
                "INSERT INTO store_meta (key, value) VALUES (?1, ?2)",
                params![key, value],
            )
            .map_err(sql_error("recording store facts"))?;
    }
    settings::seed_defaults(transaction, &stamp)?;
    let actor = AuditActor {
        user_id: Some(user_id.clone()),
        username: Some(username.to_owned()),
    };
    for (table, id) in [("users", &user_id), ("clinics", &clinic_id)] {
        changes::record_insert(transaction, environment, table, id, Some(&user_id))?;
    }
    audit::append(
        transaction,
        environment,
        NewAuditEntry::new(now, actor.clone(), "store.init", AuditOutcome::Success)
            .object("clinic", &clinic_id)
            .details(serde_json::json!({ "clinic_name": clinic_name, "time_zone": time_zone })),
    )?;
    audit::append(
        transaction,
        environment,
        NewAuditEntry::new(now, actor, "user.create", AuditOutcome::Success)
            .object("user", &user_id)
            .details(serde_json::json!({
                "after": { "username": username, "display_name": display_name, "role": "administrator" }
            })),
    )?;
    Ok(SessionUser {
        id: user_id,
        username: username.to_owned(),
        display_name: display_name.to_owned(),
        role: Role::Administrator.code().to_owned(),
    })
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

fn require_store(data_dir: &DataDir) -> Result<()> {
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
                // Unknown or disabled user: spend the same Argon2id time, count nothing per user.
                let _ = document.default_kdf.derive(password, &[0u8; 16]);
                record_unreported(document, &username, now, &environment.workstation, false);
                return Ok(Attempt::Refused(Error::new(
                    ErrorCode::AuthenticationFailed,
                    "wrong username or password; check both and try again (an administrator can reset a password)",
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
        let store_lock = shared_store_lock(data_dir)?;
        let (connection, data_key) =
            crate::keys::open_with_slot_keys(data_dir, &slots, data_key, next_key, environment)?;
        let mut session = Session::start(
            data_dir,
            connection,
            data_key,
            &username,
            environment,
            Some(store_lock),
        )?;
        session.after_unlock(unreported, generation)?;
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
                "wrong username or password; check both and try again",
            ));
        };
        if disabled {
            return Err(Error::new(
                ErrorCode::AccountDisabled,
                "this account is disabled; ask an administrator to enable it",
            ));
        }
        let permissions = load_permissions(&connection, &user.role)?;
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
        let environment = self.environment.clone();
        let user = self.user.clone();
        let must_change = self.must_change_password;
        self.write(|transaction| {
            for (username, failure) in &unreported {
                let user_id: Option<String> = transaction
                    .query_row("SELECT id FROM users WHERE username = ?1", [username], |row| row.get(0))
                    .optional()
                    .map_err(sql_error("reading a user"))?;
                let mut recorded = environment.clone();
                recorded.workstation = failure.workstation.clone();
                let actor = AuditActor { user_id, username: Some(username.clone()) };
                audit::append(
                    transaction,
                    &recorded,
                    NewAuditEntry::new(failure.at, actor.clone(), "login.failure", AuditOutcome::Failure)
                        .details(serde_json::json!({ "reported_at": format_timestamp(now) })),
                )?;
                if failure.locked_account {
                    audit::append(
                        transaction,
                        &recorded,
                        NewAuditEntry::new(failure.at, actor, "login.lockout", AuditOutcome::Failure),
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
            let actor = AuditActor { user_id: Some(user.id.clone()), username: Some(user.username.clone()) };
            if let Some(seen) = seen.filter(|seen| *seen > generation) {
                audit::append(
                    transaction,
                    &environment,
                    NewAuditEntry::new(now, actor.clone(), "security.keyslot_rollback", AuditOutcome::Failure).details(
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
                    "UPDATE users SET last_login_at = ?1, failed_login_count = 0, locked_until = NULL WHERE id = ?2",
                    params![format_timestamp(now), user.id],
                )
                .map_err(sql_error("recording the login"))?;
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, "login.success", AuditOutcome::Success)
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
        let admin: Option<(String, String, String)> = connection
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
        if role != Role::Administrator.code() {
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
        };
        let now = environment.now();
        let env = environment.clone();
        session.write(|transaction| {
            let before = changes::row_json(transaction, "users", &user_id)?;
            transaction
                .execute(
                    "UPDATE users SET disabled = 0, must_change_password = 0, failed_login_count = 0, locked_until = NULL,
                        password_changed_at = ?1, updated_at = ?1, version = version + 1 WHERE id = ?2",
                    params![format_timestamp(now), user_id],
                )
                .map_err(sql_error("updating the administrator"))?;
            changes::record_update(transaction, &env, "users", &user_id, None)?;
            let after = changes::row_json(transaction, "users", &user_id)?;
            audit::append(
                transaction,
                &env,
                NewAuditEntry::new(now, AuditActor { user_id: None, username: Some("recovery-key".into()) }, "recovery.password_reset", AuditOutcome::Success)
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

    pub fn role(&self) -> Option<Role> {
        Role::from_code(&self.user.role)
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
            user_id: Some(self.user.id.clone()),
            username: Some(self.user.username.clone()),
        }
    }

    pub(crate) fn connection(&self) -> Result<&Connection> {
        self.connection.as_ref().ok_or_else(session_expired)
    }

    pub(crate) fn data_key(&self) -> Result<&DataKey> {
        self.data_key.as_ref().ok_or_else(session_expired)
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
        let exclusive = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.data_dir.store_lock_file())?;
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
        let now = self.environment.now();
        if self.must_change_password {
            return Err(Error::new(
                ErrorCode::PasswordChangeRequired,
                "you are signed in with a temporary password; choose a new one first (clinicdesk passwd)",
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
                    "you were logged off after {} minutes without activity; log in again",
                    self.idle_timeout.num_seconds() / 60
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
        let environment = self.environment.clone();
        let actor = self.actor();
        let role = self.user.role.clone();
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
            audit::append(transaction, &environment, entry)?;
            Ok(())
        })
    }

    /// Runs `change` in one IMMEDIATE transaction (the change, its audit entry, its outbox rows
    /// and its change-journal rows commit together or not at all).
    pub(crate) fn write<T>(
        &mut self,
        change: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let now = self.environment.now();
        let connection = self.connection.as_mut().ok_or_else(session_expired)?;
        let transaction = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_error("starting a transaction"))?;
        crate::change_journal::start_transaction(&transaction, now)?;
        let outcome = change(&transaction)?;
        transaction.commit().map_err(sql_error("committing"))?;
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
        let environment = self.environment.clone();
        let actor = self.actor();
        let action = match reason {
            LogoffReason::Manual => "logoff.manual",
            LogoffReason::Idle => "logoff.idle",
        };
        let written = self.write(|transaction| {
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(at, actor, action, AuditOutcome::Success),
            )?;
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
        if form_key.trim().is_empty() || form_key.len() > 200 {
            return Err(Error::invalid_input(
                "a draft needs a form key of 1 to 200 characters",
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
                })
            })
            .map_err(sql_error("reading drafts"))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("reading drafts"))
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
        let environment = self.environment.clone();
        let actor = self.actor();
        let user_id = self.user.id.clone();
        let was_temporary = self.must_change_password;
        self.write(|transaction| {
            transaction
                .execute(
                    "UPDATE users SET must_change_password = 0, password_changed_at = ?1, updated_at = ?1,
                        updated_by = ?2, version = version + 1 WHERE id = ?2",
                    params![format_timestamp(now), user_id],
                )
                .map_err(sql_error("recording the password change"))?;
            changes::record_update(transaction, &environment, "users", &user_id, Some(&user_id))?;
            audit::append(
                transaction,
                &environment,
                NewAuditEntry::new(now, actor, "user.password_change", AuditOutcome::Success)
                    .object("user", &user_id)
                    .details(serde_json::json!({ "replaced_temporary_password": was_temporary })),
            )?;
            Ok(())
        })?;
        self.must_change_password = false;
        self.last_activity = now;
        Ok(())
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
}

fn session_expired() -> Error {
    Error::new(
        ErrorCode::SessionExpired,
        "your session has ended; log in again",
    )
}

fn account_locked(until: DateTime<Utc>) -> Error {
    Error::new(
        ErrorCode::AccountLocked,
        format!(
            "this account is locked after too many failed logins until {} UTC; try again then, or ask an administrator to reset the password",
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
                SlotOwner::Recovery => {
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

pub(crate) fn shared_store_lock(data_dir: &DataDir) -> Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data_dir.store_lock_file())?;
    file.lock_shared()?;
    Ok(file)
}

fn load_permissions(connection: &Connection, role: &str) -> Result<BTreeSet<Permission>> {
    let mut statement = connection
        .prepare("SELECT permission FROM role_permissions WHERE role = ?1")
        .map_err(sql_error("reading the role's permissions"))?;
    let codes = statement
        .query_map([role], |row| row.get::<_, String>(0))
        .map_err(sql_error("reading the role's permissions"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(sql_error("reading the role's permissions"))?;
    Ok(codes
        .iter()
        .filter_map(|code| Permission::from_code(code))
        .collect())
}
