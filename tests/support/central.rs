//! A real central server for the sync tests: PostgreSQL started by the test itself (`initdb` and
//! `pg_ctl` on a temporary folder and a free port, TLS on with a certificate made for the run),
//! the central schema applied, and workstations that are copies of one clinic's store.

use std::path::{Path, PathBuf};
use std::process::Command;

use clinicdesk_core::{DataDir, Environment, Session};
use clinicdesk_sync::postgres::Client;

use crate::{secret, Clinic};

/// Where PostgreSQL's server programs are: on PATH, or Debian's versioned folder.
fn postgres_program(name: &str) -> PathBuf {
    if let Ok(path) = std::env::var("PATH") {
        for folder in std::env::split_paths(&path) {
            let candidate = folder.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .into_iter()
        .rev()
        .map(|version| version.join("bin").join(name))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("PostgreSQL's {name} is not installed (apt-get install postgresql)")
        })
}

fn running_as_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// PostgreSQL refuses to run as root: then it runs as `nobody`.
fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.arg("-u").arg("nobody").arg("--").arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn uid_of_nobody() -> u32 {
    let output = Command::new("id").args(["-u", "nobody"]).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct CentralServer {
    pub folder: tempfile::TempDir,
    pub port: u16,
    pub certificate_pem: String,
    pub fingerprint: String,
    data: PathBuf,
    certificates: PathBuf,
}

impl CentralServer {
    /// A new server with the central schema, TLS on.
    pub fn start() -> CentralServer {
        let server = CentralServer::start_without_schema();
        clinicdesk_sync::central_schema::init(&mut server.owner()).expect("server init");
        server
    }

    /// A new server with an empty `clinicdesk` database (for `server init` to fill).
    pub fn start_without_schema() -> CentralServer {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        let data = root.join("data");
        let certificates = root.join("certificates");
        let fingerprint = clinicdesk_sync::make_certificate(&certificates, &["localhost".into()])
            .expect("certificate");
        if running_as_root() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o777)).unwrap();
            let nobody = uid_of_nobody();
            for path in [
                &certificates,
                &certificates.join("server.crt"),
                &certificates.join("server.key"),
            ] {
                std::os::unix::fs::chown(path, Some(nobody), None).unwrap();
            }
        }
        let status = as_server_user(&postgres_program("initdb"))
            .args(["-D"])
            .arg(&data)
            .args([
                "-U",
                "owner",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed");
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        let port = free_port();
        let server = CentralServer {
            certificate_pem: std::fs::read_to_string(certificates.join("server.crt")).unwrap(),
            folder,
            port,
            fingerprint,
            data,
            certificates,
        };
        server.pg_ctl_start();
        let mut postgres = server.owner_on("postgres");
        postgres
            .batch_execute("CREATE DATABASE clinicdesk")
            .unwrap();
        drop(postgres);
        server
    }

    fn pg_ctl_start(&self) {
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c ssl=on -c ssl_cert_file={} -c ssl_key_file={} -c fsync=off -c max_connections=60",
            self.port,
            self.folder.path().display(),
            self.certificates.join("server.crt").display(),
            self.certificates.join("server.key").display(),
        );
        let status = as_server_user(&postgres_program("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-o", &options, "-w", "-l"])
            .arg(self.folder.path().join("server.log"))
            .arg("start")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "the server did not start: {}", self.log());
    }

    /// The server's certificate file (what `server add-workstation --certificate` reads).
    pub fn certificate_file(&self) -> PathBuf {
        self.certificates.join("server.crt")
    }

    /// The server's log, for a failing test's message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.path().join("server.log")).unwrap_or_default()
    }

    /// Stops the server at once (as a crash would: no checkpoint) and starts it again.
    pub fn restart(&self) {
        self.stop("immediate");
        self.pg_ctl_start();
    }

    /// Stops the server (the clinic's network is down); [`CentralServer::start_again`] brings it
    /// back on the same port.
    pub fn shut_down(&self) {
        self.stop("fast");
    }

    pub fn start_again(&self) {
        self.pg_ctl_start();
    }

    fn stop(&self, mode: &str) {
        let _ = as_server_user(&postgres_program("pg_ctl"))
            .arg("-D")
            .arg(&self.data)
            .args(["-m", mode, "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }

    /// Replaces the server's certificate with another one (as a stolen address would present).
    pub fn replace_certificate(&mut self) -> String {
        let other = self.folder.path().join("other-certificates");
        let fingerprint = clinicdesk_sync::make_certificate(&other, &["localhost".into()]).unwrap();
        if running_as_root() {
            let nobody = uid_of_nobody();
            for name in ["server.crt", "server.key"] {
                std::os::unix::fs::chown(other.join(name), Some(nobody), None).unwrap();
            }
        }
        self.stop("fast");
        self.certificates = other;
        self.pg_ctl_start();
        fingerprint
    }

    /// The server tools' address: the owner, over the Unix socket.
    pub fn owner_url(&self) -> String {
        format!(
            "host={} port={} user=owner dbname=clinicdesk",
            self.folder.path().display(),
            self.port
        )
    }

    fn owner_on(&self, database: &str) -> Client {
        let url = format!(
            "host={} port={} user=owner dbname={database}",
            self.folder.path().display(),
            self.port
        );
        clinicdesk_sync::connect_as_owner(&url, None).expect("owner connects")
    }

    /// The owner's connection (server tools; superuser, beside row level security).
    pub fn owner(&self) -> Client {
        self.owner_on("clinicdesk")
    }

    /// The address a workstation is given: TCP, TLS required.
    pub fn workstation_url(&self) -> String {
        format!("postgres://localhost:{}/clinicdesk", self.port)
    }

    pub fn add_clinic(&self, name: &str) -> String {
        clinicdesk_sync::add_clinic(&mut self.owner(), name).unwrap()
    }

    /// A one-time enrolment code for a new workstation of `clinic`.
    pub fn enrolment_code(&self, clinic: &str, label: &str) -> clinicdesk_sync::EnrolmentCode {
        clinicdesk_sync::add_workstation(&mut self.owner(), clinic, label, &self.certificate_pem)
            .unwrap()
            .1
    }

    /// How many rows `table` holds on the server (all clinics).
    pub fn count(&self, table: &str) -> i64 {
        self.owner()
            .query_one(&format!("SELECT count(*) FROM clinicdesk.{table}"), &[])
            .unwrap()
            .get(0)
    }
}

impl Drop for CentralServer {
    fn drop(&mut self) {
        self.stop("immediate");
    }
}

/// One workstation: its own data folder holding a copy of a clinic's store (as one restored
/// from the clinic's backup would), its own name in the audit trail, the shared clock.
pub struct Workstation {
    pub folder: tempfile::TempDir,
    pub data_dir: DataDir,
    pub environment: Environment,
}

impl Workstation {
    /// A copy of `clinic`'s data folder, made now, working as `name`.
    pub fn copy_of(clinic: &Clinic, name: &str) -> Workstation {
        let folder = tempfile::tempdir().unwrap();
        let data_dir = DataDir::new(folder.path().join("data"));
        copy_folder(clinic.data_dir.root(), data_dir.root());
        Workstation {
            folder,
            data_dir,
            environment: Environment::with_clock(clinic.clock.clone(), name),
        }
    }

    /// Signs in as the app does: with the person's slot here, or once through the server.
    pub fn login(&self, username: &str, password: &str) -> Session {
        self.try_login(username, password)
            .unwrap_or_else(|error| panic!("{username} logs in: {error}"))
    }

    pub fn try_login(&self, username: &str, password: &str) -> clinicdesk_core::Result<Session> {
        clinicdesk_sync::sign_in(
            &self.data_dir,
            username,
            &secret(password),
            &self.environment,
        )
    }

    /// A new workstation with an empty data folder that joins `clinic` on `server`, enrolled
    /// by the clinic's administrator with their own password, every record pulled.
    pub fn joining(
        server: &CentralServer,
        clinic: &str,
        clock: &clinicdesk_core::ManualClock,
        name: &str,
    ) -> (Workstation, clinicdesk_core::InitOutcome) {
        let folder = tempfile::tempdir().unwrap();
        let data_dir = DataDir::new(folder.path().join("data"));
        let environment = Environment::with_clock(clock.clone(), name);
        let code = server.enrolment_code(clinic, name);
        let (_, outcome) = clinicdesk_sync::enroll_new_workstation(
            &server.workstation_url(),
            &code,
            clinicdesk_sync::NewWorkstation {
                data_dir: &data_dir,
                admin_username: crate::ADMIN,
                admin_password: secret(crate::ADMIN_PASSWORD),
                kdf: crate::TEST_KDF,
                pull_now: true,
            },
            &environment,
        )
        .expect("a new workstation joins its clinic");
        (
            Workstation {
                folder,
                data_dir,
                environment,
            },
            outcome,
        )
    }

    pub fn admin(&self) -> Session {
        self.login(crate::ADMIN, crate::ADMIN_PASSWORD)
    }

    pub fn staff(&self, username: &str) -> Session {
        self.login(username, crate::STAFF_PASSWORD)
    }

    /// Enrols this workstation with `server` using a fresh code for `clinic`.
    pub fn enrol(&self, server: &CentralServer, clinic: &str) -> clinicdesk_sync::Enrolled {
        let code = server.enrolment_code(clinic, self.environment.workstation.as_str());
        clinicdesk_sync::enroll(&mut self.admin(), &server.workstation_url(), &code)
            .expect("enrolment")
    }

    /// One sync as the front desk.
    pub fn sync(&self) -> clinicdesk_sync::SyncReport {
        clinicdesk_sync::sync_now(&mut self.staff("frank")).expect("sync")
    }
}

/// Copies a folder and everything in it (a data folder, as a new workstation would get it).
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
