//! Signed updates through tauri-plugin-updater: asks the administrator's update address, keeps
//! the offer until an administrator chooses to install it, makes and verifies a backup first when
//! the new version changes the store's schema, downloads with progress, and installs only a package
//! whose signature verifies with the project's public key (built into the app from
//! `tauri.conf.json`). Every refusal is turned into an [`UpdateRefusal`] the core audits.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use clinicdesk_core::{
    BackupFacts, BackupProgress, Error, ErrorCode, Result, UpdateOffer, UpdatePlan, UpdateRefusal,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime};
use tauri_plugin_updater::UpdaterExt;

use crate::state::AppState;

/// Where an update goes once its signature has verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateInstallation {
    /// The installed Debian package is replaced through the system's package manager (the plugin
    /// runs `dpkg -i` through pkexec, which asks for an administrator's password). Only an app
    /// that was itself installed from the package can do this.
    SystemPackage,
    /// The package is unpacked into this folder (`dpkg-deb -x`), replacing nothing: what the
    /// tests use to see exactly what would be installed.
    UnpackInto(PathBuf),
}

/// Where updates go and which key they must be signed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSetup {
    pub installation: UpdateInstallation,
    /// The public key (as `tauri signer generate` writes it) updates must be signed with; `None`:
    /// the project's, from `plugins.updater.pubkey` in `tauri.conf.json`. Only the tests set one.
    pub public_key: Option<String>,
}

impl Default for UpdateSetup {
    fn default() -> UpdateSetup {
        UpdateSetup {
            installation: UpdateInstallation::SystemPackage,
            public_key: None,
        }
    }
}

/// What this workstation knows of updates while the app runs.
pub struct UpdateSlot {
    installation: UpdateInstallation,
    public_key: Option<String>,
    offer: Mutex<Option<HeldUpdate>>,
    /// Packages refused while the app runs (version and signature): not offered again.
    refused: Mutex<Vec<(String, String)>>,
    /// The version installed while the app runs, waiting for the restart.
    installed: Mutex<Option<String>>,
    /// Held while an update is being installed, so a second install waits its turn.
    installing: tokio::sync::Mutex<()>,
}

#[derive(Clone)]
struct HeldUpdate {
    offer: UpdateOffer,
    update: tauri_plugin_updater::Update,
}

impl UpdateSlot {
    pub fn new(setup: UpdateSetup) -> UpdateSlot {
        UpdateSlot {
            installation: setup.installation,
            public_key: setup.public_key,
            offer: Mutex::new(None),
            refused: Mutex::new(Vec::new()),
            installed: Mutex::new(None),
            installing: tokio::sync::Mutex::new(()),
        }
    }

    /// The updater plugin, with the public key updates must be signed with.
    pub fn plugin<R: Runtime>(
        &self,
    ) -> tauri::plugin::TauriPlugin<R, tauri_plugin_updater::Config> {
        let builder = tauri_plugin_updater::Builder::new();
        match &self.public_key {
            Some(key) => builder.pubkey(key.clone()).build(),
            None => builder.build(),
        }
    }

    fn held(&self) -> MutexGuard<'_, Option<HeldUpdate>> {
        self.offer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets the version found (the update address changed).
    pub fn forget_offer(&self) {
        self.held().take();
    }

    fn refuse_package(&self, update: &tauri_plugin_updater::Update, refusal: UpdateRefusal) {
        self.held().take();
        if !refusal.is_about_the_package() {
            return;
        }
        self.refused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((update.version.clone(), update.signature.clone()));
    }

    fn was_refused(&self, update: &tauri_plugin_updater::Update) -> bool {
        self.refused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .any(|(version, signature)| {
                *version == update.version && *signature == update.signature
            })
    }

    /// The version installed and waiting for the restart, if any.
    pub fn installed_and_waiting(&self) -> Option<String> {
        self.installed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

/// The answer to "is there a new version?".
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UpdateCheck {
    UpToDate {
        installed_version: String,
    },
    Available {
        offer: UpdateOffer,
        plan: UpdatePlan,
    },
    /// The server still offers a package this workstation refused (see the audit trail); it is
    /// not offered again until the server offers another one.
    RefusedEarlier {
        installed_version: String,
        version: String,
    },
}

/// What everyone signed in on this workstation sees of updates (no network involved).
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateNotice {
    pub installed_version: String,
    /// A newer version an administrator has found and not installed yet.
    pub available: Option<UpdateOffer>,
    /// An administrator is installing it now: the app will restart.
    pub installing: bool,
}

/// How far an install has come.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "stage", rename_all = "snake_case")]
pub enum UpdateProgress {
    /// The backup before a schema-changing update: made, then verified.
    Backup {
        progress: BackupProgress,
    },
    Download {
        received_bytes: u64,
        total_bytes: Option<u64>,
    },
    Install,
}

/// An installed update; the app restarts into it when the administrator says so.
#[derive(ts_rs::TS, Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledUpdate {
    pub version: String,
    /// The verified backup made first, if the update changes the schema.
    pub backup_file: Option<String>,
}

fn installed_version<R: Runtime>(app: &AppHandle<R>) -> String {
    app.package_info().version.to_string()
}

/// What the people signed in here are told.
pub fn notice<R: Runtime>(app: &AppHandle<R>, state: &AppState) -> UpdateNotice {
    let slot = state.updates();
    UpdateNotice {
        installed_version: installed_version(app),
        available: slot.held().as_ref().map(|held| held.offer.clone()),
        installing: slot.installing.try_lock().is_err(),
    }
}

/// How long the update server may stay silent before a check or a download gives up.
const SILENCE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Asks the update address for a newer version; an offer is kept for [`install`]. An older
/// version, an unreadable manifest or an unreachable server is refused, and audited unless the
/// check is `quiet` (the one made when an administrator signs in, which would otherwise fill the
/// audit trail while a server is down).
pub async fn check<R: Runtime>(
    app: &AppHandle<R>,
    state: &AppState,
    quiet: bool,
) -> Result<UpdateCheck> {
    let endpoint = state
        .with_session(|session| session.update_endpoint_to_check())
        .await?;
    let slot = state.updates();
    let _not_installing = slot.installing.try_lock().map_err(|_| installing_now())?;
    let installed = installed_version(app);
    let refuse = |refusal: UpdateRefusal, offered: Option<String>, detail: String| {
        let installed = installed.clone();
        async move {
            slot.held().take();
            let error = refusal.error(offered.as_deref());
            if !quiet {
                state
                    .with_session(move |session| {
                        session.record_update_refusal(
                            &installed,
                            offered.as_deref(),
                            refusal,
                            &detail,
                        )
                    })
                    .await?;
            }
            Err::<UpdateCheck, Error>(error)
        }
    };
    let url = match tauri::Url::parse(&endpoint) {
        Ok(url) => url,
        Err(error) => {
            return refuse(UpdateRefusal::MalformedManifest, None, error.to_string()).await;
        }
    };
    // Every announced version comes back, so that an older one is refused out loud, not
    // silently taken for "up to date".
    let updater = app
        .updater_builder()
        .version_comparator(|_, _| true)
        .timeout(SILENCE_LIMIT)
        .configure_client(|client| {
            client
                .read_timeout(SILENCE_LIMIT)
                .redirect(reqwest::redirect::Policy::custom(|attempt| {
                    match clinicdesk_core::check_update_address(attempt.url().as_str()) {
                        Ok(_) if attempt.previous().len() < 5 => attempt.follow(),
                        Ok(_) => attempt.error("too many redirects"),
                        Err(error) => attempt.error(error.message),
                    }
                }))
        })
        .endpoints(vec![url])
        .and_then(|builder| builder.build());
    let updater = match updater {
        Ok(updater) => updater,
        Err(error) => {
            return refuse(UpdateRefusal::MalformedManifest, None, error.to_string()).await;
        }
    };
    let update = match updater.check().await {
        Ok(Some(update)) => update,
        Ok(None) => {
            slot.held().take();
            return Ok(UpdateCheck::UpToDate {
                installed_version: installed,
            });
        }
        Err(error) => {
            let refusal = refusal_at_check(&error);
            return refuse(refusal, None, error.to_string()).await;
        }
    };
    let ordering = match (
        semver::Version::parse(&update.version),
        semver::Version::parse(&installed),
    ) {
        (Ok(offered), Ok(installed)) => offered.cmp(&installed),
        _ => {
            let detail = format!("version {:?} is not a version number", update.version);
            return refuse(UpdateRefusal::MalformedManifest, None, detail).await;
        }
    };
    match ordering {
        std::cmp::Ordering::Less => {
            let detail = format!("offered {} while {installed} is installed", update.version);
            refuse(UpdateRefusal::OlderVersion, Some(update.version), detail).await
        }
        std::cmp::Ordering::Equal => {
            slot.held().take();
            Ok(UpdateCheck::UpToDate {
                installed_version: installed,
            })
        }
        std::cmp::Ordering::Greater if slot.was_refused(&update) => {
            slot.held().take();
            Ok(UpdateCheck::RefusedEarlier {
                installed_version: installed,
                version: update.version,
            })
        }
        std::cmp::Ordering::Greater => {
            // The package's own address follows the same rule as the update address.
            if let Err(error) = clinicdesk_core::check_update_address(update.download_url.as_str())
            {
                let version = update.version.clone();
                return refuse(
                    UpdateRefusal::InsecurePackageAddress,
                    Some(version),
                    error.message,
                )
                .await;
            }
            let offer = UpdateOffer {
                version: update.version.clone(),
                installed_version: installed,
                notes: update.body.clone().filter(|notes| !notes.trim().is_empty()),
                published_at: update.date.and_then(|date| {
                    date.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                }),
                schema_version: update
                    .raw_json
                    .get("schema_version")
                    .and_then(serde_json::Value::as_i64),
            };
            let plan = {
                let offer = offer.clone();
                state
                    .with_session(move |session| session.plan_update(&offer))
                    .await?
            };
            *state.updates().held() = Some(HeldUpdate {
                offer: offer.clone(),
                update,
            });
            Ok(UpdateCheck::Available { offer, plan })
        }
    }
}

/// Installs the version the last check found: the download (its signature checked by the
/// plugin), then a verified backup when the schema changes, then the package. Nothing is
/// installed unless every step succeeded; each refusal is audited.
pub async fn install(
    state: &AppState,
    mut report: impl FnMut(UpdateProgress) + Send + 'static,
) -> Result<InstalledUpdate> {
    let slot = state.updates();
    let _installing = slot.installing.try_lock().map_err(|_| installing_now())?;
    let held = slot.held().clone().ok_or_else(|| {
        Error::conflict("There is no new version to install: check for updates first")
    })?;
    let offer = held.offer.clone();
    let plan = {
        let offer = offer.clone();
        state
            .with_session(move |session| session.plan_update(&offer))
            .await?
    };
    let report: Reporter = Arc::new(Mutex::new(move |progress: UpdateProgress| report(progress)));

    // A refused package is not offered again while the app runs.
    let refused_update = held.update.clone();
    let refuse = |refusal: UpdateRefusal, detail: String| {
        let offer = offer.clone();
        let refused_update = refused_update.clone();
        async move {
            slot.refuse_package(&refused_update, refusal);
            let error = refusal.error(Some(&offer.version));
            state
                .with_session(move |session| {
                    session.record_update_refusal(
                        &offer.installed_version,
                        Some(&offer.version),
                        refusal,
                        &detail,
                    )
                })
                .await?;
            Err::<InstalledUpdate, Error>(error)
        }
    };

    let mut received: u64 = 0;
    let mut expected: Option<u64> = None;
    let downloading = report.clone();
    let downloaded = held
        .update
        .download(
            |chunk, total| {
                received += chunk as u64;
                expected = total;
                (downloading.lock().unwrap_or_else(|p| p.into_inner()))(UpdateProgress::Download {
                    received_bytes: received,
                    total_bytes: total,
                });
            },
            || {},
        )
        .await;
    let bytes = match downloaded {
        Ok(bytes) => bytes,
        Err(error) => {
            let incomplete = expected.is_some_and(|expected| received < expected);
            return refuse(refusal_at_download(&error, incomplete), error.to_string()).await;
        }
    };
    // A copy that cannot replace itself says so before spending minutes on a backup.
    if let Some((refusal, detail)) = cannot_install_here(&slot.installation) {
        return refuse(refusal, detail).await;
    }
    let backup_file = if plan.backup_first {
        Some(backup_and_verify(state, report.clone()).await?.path)
    } else {
        None
    };
    (report.lock().unwrap_or_else(|p| p.into_inner()))(UpdateProgress::Install);
    let installation = slot.installation.clone();
    let update = held.update.clone();
    let installed = tauri::async_runtime::spawn_blocking(move || {
        install_package(&update, &bytes, &installation)
    })
    .await
    .map_err(|error| Error::unexpected(format!("the install stopped: {error}")))?;
    if let Err((refusal, detail)) = installed {
        return refuse(refusal, detail).await;
    }
    {
        let (offer, backup_file) = (offer.clone(), backup_file.clone());
        state
            .with_session(move |session| {
                session.record_update_installed(&offer, backup_file.as_deref())
            })
            .await?;
    }
    slot.held().take();
    *slot
        .installed
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(offer.version.clone());
    Ok(InstalledUpdate {
        version: offer.version,
        backup_file,
    })
}

type Reporter = Arc<Mutex<dyn FnMut(UpdateProgress) + Send>>;

/// A backup of the store now, then verified completely, reporting both as progress.
async fn backup_and_verify(state: &AppState, report: Reporter) -> Result<BackupFacts> {
    let making = report.clone();
    let facts = state
        .with_job(
            |session| session.prepare_backup(None),
            move |job| {
                job.run(&mut |progress| {
                    (making.lock().unwrap_or_else(|p| p.into_inner()))(UpdateProgress::Backup {
                        progress,
                    })
                })
            },
        )
        .await?;
    let path = PathBuf::from(&facts.path);
    state
        .with_job(
            move |session| session.prepare_verify(&path),
            move |job| {
                job.run(&mut |progress| {
                    (report.lock().unwrap_or_else(|p| p.into_inner()))(UpdateProgress::Backup {
                        progress,
                    })
                })
            },
        )
        .await
}

/// Installs verified `bytes` where `installation` says; the signature is checked again first.
fn install_package(
    update: &tauri_plugin_updater::Update,
    bytes: &[u8],
    installation: &UpdateInstallation,
) -> std::result::Result<(), (UpdateRefusal, String)> {
    let failed = |error: tauri_plugin_updater::Error| {
        (refusal_at_download(&error, false), error.to_string())
    };
    match installation {
        UpdateInstallation::SystemPackage => {
            if let Some(cannot) = cannot_install_here(installation) {
                return Err(cannot);
            }
            update.install(bytes).map_err(failed)
        }
        UpdateInstallation::UnpackInto(root) => {
            update.verify(bytes).map_err(failed)?;
            if !bytes.starts_with(b"!<arch>\ndebian-binary") {
                return Err((
                    UpdateRefusal::NotAPackage,
                    "not a Debian archive".to_owned(),
                ));
            }
            let unpack = || -> std::io::Result<std::process::Output> {
                let folder = tempfile::tempdir()?;
                let package = folder.path().join("update.deb");
                std::fs::write(&package, bytes)?;
                std::fs::create_dir_all(root)?;
                std::process::Command::new("dpkg-deb")
                    .arg("-x")
                    .arg(&package)
                    .arg(root)
                    .output()
            };
            match unpack() {
                Ok(output) if output.status.success() => Ok(()),
                Ok(output) => Err((
                    UpdateRefusal::InstallFailed,
                    String::from_utf8_lossy(&output.stderr).trim().to_owned(),
                )),
                Err(error) => Err((UpdateRefusal::InstallFailed, error.to_string())),
            }
        }
    }
}

fn installing_now() -> Error {
    Error::new(
        ErrorCode::Busy,
        "An update is being installed on this workstation; Clinicdesk restarts when it is done",
    )
}

/// Why this copy of Clinicdesk cannot install a package, if it cannot: only an app installed from
/// the Debian package replaces itself through the package manager.
fn cannot_install_here(installation: &UpdateInstallation) -> Option<(UpdateRefusal, String)> {
    let packaged =
        tauri::utils::platform::bundle_type() == Some(tauri::utils::config::BundleType::Deb);
    (*installation == UpdateInstallation::SystemPackage && !packaged).then(|| {
        (
            UpdateRefusal::NotInstalledFromPackage,
            "this copy was not installed from the Debian package".to_owned(),
        )
    })
}

/// Why a check failed, in the words of [`UpdateRefusal`].
fn refusal_at_check(error: &tauri_plugin_updater::Error) -> UpdateRefusal {
    use tauri_plugin_updater::Error as Plugin;
    match error {
        Plugin::Reqwest(error) if error.is_decode() => UpdateRefusal::MalformedManifest,
        Plugin::Reqwest(_) | Plugin::Network(_) | Plugin::Io(_) => UpdateRefusal::ServerUnreachable,
        Plugin::TargetNotFound(_) | Plugin::TargetsNotFound(_) => {
            UpdateRefusal::NoPackageForThisComputer
        }
        _ => UpdateRefusal::MalformedManifest,
    }
}

/// Why a download or an install failed, in the words of [`UpdateRefusal`].
fn refusal_at_download(error: &tauri_plugin_updater::Error, incomplete: bool) -> UpdateRefusal {
    use tauri_plugin_updater::Error as Plugin;
    match error {
        Plugin::Minisign(minisign_verify::Error::UnexpectedKeyId) => {
            UpdateRefusal::SignedByAnotherKey
        }
        Plugin::SignedVersionMismatch { .. } | Plugin::MissingSignedVersion => {
            UpdateRefusal::SignedForAnotherVersion
        }
        Plugin::InvalidUpdaterFormat => UpdateRefusal::NotAPackage,
        _ if incomplete => UpdateRefusal::IncompleteDownload,
        Plugin::Minisign(_) | Plugin::Base64(_) | Plugin::SignatureUtf8(_) => {
            UpdateRefusal::BadSignature
        }
        Plugin::Reqwest(_) | Plugin::Network(_) => UpdateRefusal::ServerUnreachable,
        _ => UpdateRefusal::InstallFailed,
    }
}
