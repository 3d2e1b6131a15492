//! Updates of the desktop app, as far as the store is concerned: the update address an
//! administrator sets, whether an offered version needs a verified backup before it is installed,
//! and the audit entries of refusals and installs. Fetching the manifest, downloading and checking
//! the signature belong to the desktop shell (tauri-plugin-updater); it reports here what happened.

use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_store::rusqlite::{params, Connection, OptionalExtension};
use clinicdesk_store::sql_error;
use serde::{Deserialize, Serialize};

use crate::audit::AuditOutcome;
use crate::permission::Permission;
use crate::session::Session;
use crate::tables::Table;

/// The settings row holding the update address (device-local, like the backup folder).
const ENDPOINT_KEY: &str = "update_endpoint";
/// The longest update address accepted.
pub const UPDATE_ENDPOINT_MAX_CHARS: usize = 500;

/// Where this workstation looks for updates; `None`: it does not look (the default).
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UpdateSettings {
    pub endpoint: Option<String>,
}

/// A version the update server offers, as the shell read it from the manifest. The manifest is
/// not signed: only the package is, so nothing here is trusted beyond deciding what to ask.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOffer {
    pub version: String,
    pub installed_version: String,
    pub notes: Option<String>,
    pub published_at: Option<String>,
    /// The store schema the new version brings (`schema_version` in the manifest); `None` when
    /// the manifest does not say, which is treated as a schema change.
    pub schema_version: Option<i64>,
}

/// What installing an offered version involves on this workstation.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePlan {
    /// A backup is made and verified before the update is installed: the new version changes the
    /// store's schema (or does not say that it does not).
    pub backup_first: bool,
    /// The schema of the store now.
    pub store_schema: i64,
}

/// Why an update was refused. Each is audited and reaches people as `update_refused` (or
/// `update_server_unreachable`) with a sentence saying what was found and that nothing changed.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateRefusal {
    /// The package does not match its signature (changed after signing, or damaged).
    BadSignature,
    /// The signature was made with a key other than the project's.
    SignedByAnotherKey,
    /// The signature is for another version than the manifest announces (or names none).
    SignedForAnotherVersion,
    /// The manifest offers a version older than the one installed.
    OlderVersion,
    /// The download ended before the whole package arrived.
    IncompleteDownload,
    /// What was downloaded is not a Debian package.
    NotAPackage,
    /// The manifest names a package address that is neither https nor on this computer.
    InsecurePackageAddress,
    /// The update address cannot be reached.
    ServerUnreachable,
    /// The update address did not answer with an update manifest Clinicdesk can read.
    MalformedManifest,
    /// The manifest has no package for this kind of computer.
    NoPackageForThisComputer,
    /// This copy of Clinicdesk was not installed from the Debian package (it runs from a source
    /// checkout): it cannot replace itself.
    NotInstalledFromPackage,
    /// The package manager did not install the package (cancelled, or it failed).
    InstallFailed,
}

impl UpdateRefusal {
    pub fn code(self) -> &'static str {
        match self {
            UpdateRefusal::BadSignature => "bad_signature",
            UpdateRefusal::SignedByAnotherKey => "signed_by_another_key",
            UpdateRefusal::SignedForAnotherVersion => "signed_for_another_version",
            UpdateRefusal::OlderVersion => "older_version",
            UpdateRefusal::IncompleteDownload => "incomplete_download",
            UpdateRefusal::NotAPackage => "not_a_package",
            UpdateRefusal::InsecurePackageAddress => "insecure_package_address",
            UpdateRefusal::ServerUnreachable => "server_unreachable",
            UpdateRefusal::MalformedManifest => "malformed_manifest",
            UpdateRefusal::NoPackageForThisComputer => "no_package_for_this_computer",
            UpdateRefusal::NotInstalledFromPackage => "not_installed_from_package",
            UpdateRefusal::InstallFailed => "install_failed",
        }
    }

    /// Whether the refusal is about the package the server offers (its signature, its key, its
    /// version, its contents): such a package is not offered again while the app runs. A cut-off
    /// download or an unreachable server may go better next time.
    pub fn is_about_the_package(self) -> bool {
        matches!(
            self,
            UpdateRefusal::BadSignature
                | UpdateRefusal::SignedByAnotherKey
                | UpdateRefusal::SignedForAnotherVersion
                | UpdateRefusal::NotAPackage
                | UpdateRefusal::InsecurePackageAddress
        )
    }

    /// The error people see: what was found, and that the installed version and the records are
    /// as they were.
    pub fn error(self, version: Option<&str>) -> Error {
        let offered = version.map_or_else(|| "The update".to_owned(), |v| format!("Version {v}"));
        let untouched = "nothing was installed and the records are unchanged";
        let (code, message) = match self {
            UpdateRefusal::BadSignature => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: the package does not match its signature (it was changed or damaged on the way); {untouched}"),
            ),
            UpdateRefusal::SignedByAnotherKey => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: it is not signed with the Clinicdesk project's key; {untouched}"),
            ),
            UpdateRefusal::SignedForAnotherVersion => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: its signature is for another version than the update server announces; {untouched}"),
            ),
            UpdateRefusal::OlderVersion => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: it is older than the version installed here, and Clinicdesk never goes back to an older version; {untouched}"),
            ),
            UpdateRefusal::IncompleteDownload => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: the download stopped before the whole package arrived; {untouched}. Try again later"),
            ),
            UpdateRefusal::NotAPackage => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: the download is not a Debian package; {untouched}"),
            ),
            UpdateRefusal::InsecurePackageAddress => (
                ErrorCode::UpdateRefused,
                format!("{offered} was refused: the update server names a package address that is not https; {untouched}. Tell whoever runs the update server"),
            ),
            UpdateRefusal::ServerUnreachable => (
                ErrorCode::UpdateServerUnreachable,
                "The update server cannot be reached; check the update address and the network, or try again later. Nothing was changed".to_owned(),
            ),
            UpdateRefusal::MalformedManifest => (
                ErrorCode::UpdateServerUnreachable,
                "The update address did not answer with an update manifest Clinicdesk can read; check the address. Nothing was changed".to_owned(),
            ),
            UpdateRefusal::NoPackageForThisComputer => (
                ErrorCode::UpdateRefused,
                format!("{offered} has no package for this kind of computer (Linux, x86-64, Debian package); {untouched}"),
            ),
            UpdateRefusal::NotInstalledFromPackage => (
                ErrorCode::UpdateRefused,
                format!("{offered} cannot be installed here: this copy of Clinicdesk was not installed from the Debian package. Install the new version the way this copy was installed; {untouched}"),
            ),
            UpdateRefusal::InstallFailed => (
                ErrorCode::UpdateRefused,
                format!("{offered} was not installed: the package manager did not finish (the password was not given, or the installation failed). The records are unchanged; if Clinicdesk does not start as before, ask your IT to run \"sudo apt -f install\""),
            ),
        };
        Error::new(code, message)
    }
}

/// Checks an update address (and the address of a package a manifest names, and every redirect):
/// `https://` with a host, or `http://` to this computer only (a mirror on the same machine). The
/// package's signature is what makes an update trusted; the address only decides where to ask,
/// and https keeps a network from holding updates back or swapping the manifest.
pub fn check_update_address(endpoint: &str) -> Result<String> {
    let endpoint = endpoint.trim();
    let refuse = |why: &str| {
        Error::invalid_field(
            "endpoint",
            format!(
                "{:?} is not an update address: {why}",
                crate::validation::visible(endpoint)
            ),
        )
    };
    if endpoint.chars().count() > UPDATE_ENDPOINT_MAX_CHARS {
        return Err(refuse(&format!(
            "it is longer than {UPDATE_ENDPOINT_MAX_CHARS} characters"
        )));
    }
    if endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(refuse("it contains spaces or control characters"));
    }
    let (scheme, rest) = endpoint
        .split_once("://")
        .ok_or_else(|| refuse("it must start with https://"))?;
    let host_and_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match host_and_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => host_and_port.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() || host_and_port.contains('@') {
        return Err(refuse("it names no server"));
    }
    let this_computer = matches!(host, "localhost" | "127.0.0.1" | "::1");
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(endpoint.to_owned()),
        "http" if this_computer => Ok(endpoint.to_owned()),
        "http" => Err(refuse(
            "plain http is accepted only for a server on this computer; use https",
        )),
        _ => Err(refuse("it must start with https://")),
    }
}

fn read_endpoint(connection: &Connection) -> Result<Option<String>> {
    let value: Option<String> = connection
        .query_row(
            "SELECT value FROM settings WHERE key = ?1",
            [ENDPOINT_KEY],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql_error("reading the update address"))?;
    Ok(value.filter(|text| !text.is_empty()))
}

impl Session {
    /// Whether someone is signed in (and not idle past the logoff), without counting as their
    /// activity: for the update notice, which the window asks for now and then.
    pub fn check_signed_in(&mut self) -> Result<()> {
        self.check_live()
    }

    /// The update address of this workstation.
    pub fn update_settings(&mut self) -> Result<UpdateSettings> {
        self.authorize("updates.read", Some(Permission::UpdatesManage), None)?;
        Ok(UpdateSettings {
            endpoint: read_endpoint(self.connection()?)?,
        })
    }

    /// Sets (or, with `None` or an empty text, clears) the update address; audited with before
    /// and after.
    pub fn set_update_settings(&mut self, wanted: UpdateSettings) -> Result<UpdateSettings> {
        self.authorize(
            "updates.settings_change",
            Some(Permission::UpdatesManage),
            None,
        )?;
        let endpoint = match wanted.endpoint.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(check_update_address(text)?),
        };
        let before = read_endpoint(self.connection()?)?;
        let exists: bool = self
            .connection()?
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM settings WHERE key = ?1)",
                [ENDPOINT_KEY],
                |row| row.get(0),
            )
            .map_err(sql_error("reading the update address"))?;
        let value = endpoint.clone().unwrap_or_default();
        self.write(|write| {
            let (stamp, by) = (write.stamp(), write.user_id().map(str::to_owned));
            if exists {
                write
                    .execute(
                        "UPDATE settings SET value = ?2, updated_at = ?3, updated_by = ?4, version = version + 1 WHERE key = ?1",
                        params![ENDPOINT_KEY, value, stamp, by],
                    )
                    .map_err(sql_error("changing the update address"))?;
                write.updated(Table::Settings, ENDPOINT_KEY)?;
            } else {
                write
                    .execute(
                        "INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4)",
                        params![ENDPOINT_KEY, value, stamp, by],
                    )
                    .map_err(sql_error("setting the update address"))?;
                write.inserted(Table::Settings, ENDPOINT_KEY)?;
            }
            let entry = write
                .entry("update.settings_change")
                .object("settings", ENDPOINT_KEY)
                .details(serde_json::json!({ "before": before, "after": endpoint }));
            write.audit(entry)?;
            Ok(())
        })?;
        Ok(UpdateSettings { endpoint })
    }

    /// The address to ask for updates, for an administrator's check; a clear error when none is set.
    pub fn update_endpoint_to_check(&mut self) -> Result<String> {
        self.authorize("updates.check", Some(Permission::UpdatesManage), None)?;
        read_endpoint(self.connection()?)?.ok_or_else(|| {
            Error::invalid_field(
                "endpoint",
                "No update address is set for this workstation: enter the address your clinic's IT gave you under Updates",
            )
        })
    }

    /// Whether installing `offer` needs a verified backup first: always, unless the manifest says
    /// the new version keeps the store's schema as it is.
    pub fn plan_update(&mut self, offer: &UpdateOffer) -> Result<UpdatePlan> {
        self.authorize("updates.install", Some(Permission::UpdatesManage), None)?;
        let store_schema = i64::from(clinicdesk_store::applied_schema_version(
            self.connection()?,
        )?);
        Ok(UpdatePlan {
            backup_first: offer.schema_version != Some(store_schema),
            store_schema,
        })
    }

    /// Records a refused update (at the check, the download or the install) in the audit trail.
    pub fn record_update_refusal(
        &mut self,
        installed_version: &str,
        offered_version: Option<&str>,
        refusal: UpdateRefusal,
        detail: &str,
    ) -> Result<()> {
        self.authorize("updates.check", Some(Permission::UpdatesManage), None)?;
        self.write(|write| {
            let entry = write
                .entry("update.refused")
                .outcome(AuditOutcome::Failure)
                .details(serde_json::json!({
                    "installed_version": installed_version,
                    "offered_version": offered_version,
                    "reason": refusal.code(),
                    "detail": detail,
                }));
            write.audit(entry)?;
            Ok(())
        })
    }

    /// Records an installed update: the versions, and the backup made first (if one was).
    pub fn record_update_installed(
        &mut self,
        offer: &UpdateOffer,
        backup_file: Option<&str>,
    ) -> Result<()> {
        self.authorize("updates.install", Some(Permission::UpdatesManage), None)?;
        self.write(|write| {
            let entry = write.entry("update.install").details(serde_json::json!({
                "from_version": offer.installed_version,
                "to_version": offer.version,
                "schema_version": offer.schema_version,
                "backup": backup_file,
            }));
            write.audit(entry)?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::check_update_address;

    #[test]
    fn update_addresses_are_https_or_this_computer() {
        let check = |text: &str, accepted: bool| {
            assert_eq!(check_update_address(text).is_ok(), accepted, "{text}");
        };
        check("https://updates.example.org/clinicdesk/latest.json", true);
        check("https://10.0.0.5:8443/latest.json", true);
        check("http://127.0.0.1:8080/latest.json", true);
        check("http://localhost/latest.json", true);
        check("http://[::1]:9000/latest.json", true);
        check("http://updates.example.org/latest.json", false);
        check("http://127.0.0.1.example.org/latest.json", false);
        check("http://user@127.0.0.1/latest.json", false);
        check("ftp://updates.example.org/latest.json", false);
        check("updates.example.org/latest.json", false);
        check("https://", false);
        check("https://exa mple.org/latest.json", false);
        check(&format!("https://example.org/{}", "a".repeat(500)), false);
    }
}
