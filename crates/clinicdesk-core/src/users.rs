//! User accounts: add, list, disable, enable, change role, reset password (administrators).

use clinicdesk_error::{Error, Result};
use clinicdesk_keyslot::{KeySlotFile, SlotOwner, SlotSecret};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;
use rand::Rng;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::audit::{AuditOutcome, NewAuditEntry};
use crate::environment::format_timestamp;
use crate::ids::UserId;
use crate::permission::{Permission, Role};
use crate::recorded_write::RowChange;
use crate::session::Session;
use crate::tables::Table;

/// A user account as the administrator sees it.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    pub must_change_password: bool,
    pub locked_until: Option<String>,
    pub last_login_at: Option<String>,
    /// Lockouts of this account on the clinic's other workstations that may still hold, as of
    /// this workstation's last sync.
    pub locked_elsewhere: Vec<RemoteLockout>,
}

/// A lockout on another workstation, from its audit trail.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteLockout {
    pub workstation: String,
    pub locked_at: String,
    pub locked_until: String,
}

/// A one-time password, shown once to the administrator, to be changed at first login.
pub struct TemporaryPassword(pub Zeroizing<String>);

pub(crate) fn validate_username(username: &str) -> Result<String> {
    let username = username.trim().to_lowercase();
    let valid = (2..=crate::limits::USERNAME.max).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !valid {
        return Err(Error::invalid_field(
            "username",
            format!(
                "The username {:?} is not valid: use 2 to {} letters, digits, dots, dashes or underscores",
                crate::validation::visible(&username),
                crate::limits::USERNAME.max
            ),
        ));
    }
    Ok(username)
}

pub(crate) fn validate_display_name(name: &str) -> Result<String> {
    crate::validation::single_line(
        crate::validation::field("display_name", "the full name"),
        name,
        crate::limits::STAFF_NAME.max,
    )
}

fn generate_temporary_password() -> TemporaryPassword {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    let mut text = String::with_capacity(24);
    for group in 0..4 {
        if group > 0 {
            text.push('-');
        }
        for _ in 0..5 {
            text.push(ALPHABET[rng.gen_range(0..ALPHABET.len())] as char);
        }
    }
    TemporaryPassword(Zeroizing::new(text))
}

fn find_user(connection: &Connection, username: &str) -> Result<(String, String, Role, bool)> {
    let username = username.trim().to_lowercase();
    connection
        .query_row(
            "SELECT id, display_name, role, disabled FROM users WHERE username = ?1 AND deleted_at IS NULL",
            [&username],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(sql_error("finding the user"))?
        .ok_or_else(|| Error::not_found(format!("there is no user named {username}; `clinicdesk user list` shows them")))
}

fn enabled_administrators(connection: &Connection) -> Result<i64> {
    connection
        .query_row(
            "SELECT count(*) FROM users WHERE role = 'administrator' AND disabled = 0 AND deleted_at IS NULL",
            [],
            |row| row.get(0),
        )
        .map_err(sql_error("counting administrators"))
}

impl Session {
    pub fn list_users(&mut self) -> Result<Vec<UserSummary>> {
        self.authorize("users.list", Some(Permission::UsersList), None)?;
        let document = KeySlotFile::new(self.data_dir.key_slot_file()).read()?;
        let now = self.environment.now();
        let connection = self.connection()?;
        let mut statement = connection
            .prepare(
                "SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.must_change_password, s.last_login_at
                 FROM users u LEFT JOIN user_sign_ins s ON s.user_id = u.id
                 WHERE u.deleted_at IS NULL ORDER BY u.username",
            )
            .map_err(sql_error("listing users"))?;
        let rows = statement
            .query_map([], |row| {
                Ok(UserSummary {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    display_name: row.get(2)?,
                    role: row.get(3)?,
                    disabled: row.get(4)?,
                    must_change_password: row.get(5)?,
                    locked_until: None,
                    last_login_at: row.get(6)?,
                    locked_elsewhere: Vec::new(),
                })
            })
            .map_err(sql_error("listing users"))?;
        let mut users = rows
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("listing users"))?;
        let lock = chrono::Duration::minutes(i64::from(document.login_policy.lock_minutes));
        let mut lockouts = connection
            .prepare(
                "SELECT username, workstation, occurred_at FROM remote_audit_entries
                 WHERE action = 'login.lockout' AND occurred_at >= ?1 ORDER BY occurred_at",
            )
            .map_err(sql_error("reading lockouts on other workstations"))?;
        let recent = lockouts
            .query_map([format_timestamp(now - lock)], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                ))
            })
            .map_err(sql_error("reading lockouts on other workstations"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql_error("reading lockouts on other workstations"))?;
        for (username, workstation, locked_at) in recent {
            let Some(user) = users
                .iter_mut()
                .find(|user| Some(&user.username) == username.as_ref())
            else {
                continue;
            };
            let Ok(at) = chrono::DateTime::parse_from_rfc3339(&locked_at) else {
                continue;
            };
            user.locked_elsewhere.push(RemoteLockout {
                workstation,
                locked_until: format_timestamp(at.with_timezone(&chrono::Utc) + lock),
                locked_at,
            });
        }
        for user in &mut users {
            user.locked_until = document
                .slot(&SlotOwner::user(&user.username))
                .and_then(|slot| slot.lockout.locked_until)
                .filter(|until| *until > now)
                .map(format_timestamp);
        }
        Ok(users)
    }

    /// Adds a user with a temporary password (returned once) that must be changed at first login.
    pub fn add_user(
        &mut self,
        username: &str,
        display_name: &str,
        role: Role,
    ) -> Result<TemporaryPassword> {
        self.authorize("users.add", Some(Permission::UsersManage), None)?;
        let username = validate_username(username)?;
        let display_name = validate_display_name(display_name)?;
        let exists: bool = self
            .connection()?
            .query_row(
                "SELECT count(*) > 0 FROM users WHERE username = ?1",
                [&username],
                |row| row.get(0),
            )
            .map_err(sql_error("checking the username"))?;
        if exists {
            return Err(Error::conflict(format!(
                "a user named {username} already exists; choose another username"
            )));
        }
        let password = generate_temporary_password();
        let verifier = self.password_verifier(&SlotSecret::new(password.0.to_string()))?;
        let slots = KeySlotFile::new(self.data_dir.key_slot_file());
        let owner = SlotOwner::user(&username);
        {
            let data_key = self.data_key()?;
            slots.update(|document| {
                document.put_slot(
                    owner.clone(),
                    &SlotSecret::new(password.0.to_string()),
                    data_key,
                )
            })?;
        }
        let written = self.write(|transaction| {
            let stamp = transaction.stamp();
            let id = transaction.insert_row(
                Table::Users,
                &[
                    ("username", &username),
                    ("display_name", &display_name),
                    ("role", &role),
                    ("must_change_password", &true),
                    ("password_changed_at", &stamp),
                    ("password_verifier", &verifier),
                ],
            )?;
            transaction.audit(
                transaction
                    .entry("user.create")
                    .object("user", &id)
                    .details(
                        serde_json::json!({ "after": transaction.row_json(Table::Users, &id)? }),
                    ),
            )?;
            Ok(())
        });
        if let Err(error) = written {
            let _ = slots.update(|document| {
                document.remove_slot(&owner);
                Ok(())
            });
            return Err(error);
        }
        Ok(password)
    }

    /// Applies `change` (SQL setting columns) to a user, audited with before and after.
    fn change_user(
        &mut self,
        username: &str,
        action: &str,
        set_sql: &str,
        extra: &str,
        password_verifier: Option<&str>,
    ) -> Result<String> {
        let now = self.environment.now();
        let (id, ..) = find_user(self.connection()?, username)?;
        let actor = self.actor();
        let by = self.user().id.to_string();
        self.write(|transaction| {
            let row = RowChange { table: Table::Users, id: &id, object_type: "user", patient_id: None };
            let entry = NewAuditEntry::new(now, actor, action, AuditOutcome::Success).details(serde_json::json!({ "note": extra }));
            transaction.change_row(row, entry, |transaction, _| {
                transaction
                    .execute(
                    &format!("UPDATE users SET {set_sql}, updated_at = ?1, updated_by = ?2, version = version + 1,
                        password_verifier = coalesce(?4, password_verifier),
                        password_changed_at = CASE WHEN ?4 IS NULL THEN password_changed_at ELSE ?1 END
                     WHERE id = ?3"),
                    params![format_timestamp(now), by, id, password_verifier],
                )
                .map_err(sql_error("changing the user"))?;
                Ok(())
            })?;
            Ok(id.clone())
        })
    }

    /// Disables an account: its key slot is removed, so its password no longer unlocks anything.
    pub fn disable_user(&mut self, username: &str) -> Result<()> {
        self.authorize("users.disable", Some(Permission::UsersManage), None)?;
        let (_, _, role, disabled) = find_user(self.connection()?, username)?;
        let username = username.trim().to_lowercase();
        if username == self.user().username {
            return Err(Error::invalid_input("you cannot disable your own account"));
        }
        if disabled {
            return Ok(());
        }
        if role == Role::Administrator && enabled_administrators(self.connection()?)? <= 1 {
            return Err(Error::conflict(
                "this is the last enabled administrator; add or enable another one first",
            ));
        }
        self.change_user(
            &username,
            "user.disable",
            "disabled = 1",
            "key slot removed",
            None,
        )?;
        KeySlotFile::new(self.data_dir.key_slot_file()).update(|document| {
            document.remove_slot(&SlotOwner::user(&username));
            Ok(())
        })?;
        Ok(())
    }

    /// Enables an account again, with a new temporary password (the old slot was removed).
    pub fn enable_user(&mut self, username: &str) -> Result<TemporaryPassword> {
        self.authorize("users.enable", Some(Permission::UsersManage), None)?;
        find_user(self.connection()?, username)?;
        self.give_temporary_password(
            username,
            "user.enable",
            "disabled = 0, must_change_password = 1",
        )
    }

    /// Replaces a user's password with a temporary one (returned once); clears a lockout.
    pub fn reset_password(&mut self, username: &str) -> Result<TemporaryPassword> {
        self.authorize("users.reset_password", Some(Permission::UsersManage), None)?;
        let (_, _, _, disabled) = find_user(self.connection()?, username)?;
        if disabled {
            return Err(Error::invalid_input("this account is disabled; enable it instead (that also gives it a temporary password)"));
        }
        self.give_temporary_password(username, "user.password_reset", "must_change_password = 1")
    }

    fn give_temporary_password(
        &mut self,
        username: &str,
        action: &str,
        set_sql: &str,
    ) -> Result<TemporaryPassword> {
        let username = username.trim().to_lowercase();
        let password = generate_temporary_password();
        let verifier = self.password_verifier(&SlotSecret::new(password.0.to_string()))?;
        {
            let data_key = self.data_key()?;
            KeySlotFile::new(self.data_dir.key_slot_file()).update(|document| {
                let owner = SlotOwner::user(&username);
                document.put_slot(
                    owner.clone(),
                    &SlotSecret::new(password.0.to_string()),
                    data_key,
                )?;
                if let Some(slot) = document.slot_mut(&owner) {
                    slot.lockout.consecutive_failures = 0;
                    slot.lockout.locked_until = None;
                }
                Ok(())
            })?;
        }
        self.change_user(
            &username,
            action,
            set_sql,
            "temporary password issued",
            Some(&verifier),
        )?;
        Ok(password)
    }

    /// Changes a user's role; the last administrator cannot be demoted.
    pub fn set_user_role(&mut self, username: &str, role: Role) -> Result<()> {
        self.authorize("users.set_role", Some(Permission::UsersManage), None)?;
        let (_, _, current, disabled) = find_user(self.connection()?, username)?;
        if current == role {
            return Ok(());
        }
        if current == Role::Administrator
            && !disabled
            && enabled_administrators(self.connection()?)? <= 1
        {
            return Err(Error::conflict(
                "this is the last enabled administrator; make someone else an administrator first",
            ));
        }
        let role_sql = format!("role = '{}'", role.code());
        self.change_user(username, "user.role_change", &role_sql, "", None)?;
        Ok(())
    }
}
