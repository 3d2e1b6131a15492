//! Connections to the central server: TLS whose only trusted certificate is the one enrolled
//! (its SHA-256 pinned; no certificate authority is asked), and the mapping of connection and
//! server errors to the core's error codes.

use std::sync::{Arc, Mutex};

use clinicdesk_core::{Error, ErrorCode, Result};
use postgres::{Client, Config};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};

/// SHA-256 of a certificate (DER), as lower-case hex: how a certificate is named and pinned.
pub fn certificate_fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The fingerprint of the first certificate of a PEM file (the server's `ssl_cert_file`).
pub fn pem_certificate_fingerprint(pem: &str) -> Result<String> {
    let start = pem.find("-----BEGIN CERTIFICATE-----").ok_or_else(|| {
        Error::invalid_field("server_certificate", "the file holds no PEM certificate")
    })?;
    let body_start = start + "-----BEGIN CERTIFICATE-----".len();
    let end = pem[body_start..]
        .find("-----END CERTIFICATE-----")
        .ok_or_else(|| {
            Error::invalid_field("server_certificate", "the PEM certificate is cut off")
        })?;
    let text: String = pem[body_start..body_start + end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| {
            Error::invalid_field(
                "server_certificate",
                "the PEM certificate is not valid base64",
            )
        })?;
    Ok(certificate_fingerprint(&der))
}

/// Accepts exactly one certificate, by fingerprint, and records what the server presented.
#[derive(Debug)]
struct PinnedCertificate {
    fingerprint: String,
    presented: Arc<Mutex<Option<String>>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for PinnedCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let presented = certificate_fingerprint(end_entity.as_ref());
        *self.presented.lock().expect("not poisoned") = Some(presented.clone());
        if presented == self.fingerprint {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the server's certificate is not the enrolled one".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A server address as typed: `postgres://host:port/database`, with no user and no password
/// (a password never goes on a command line or into a log).
pub fn parse_server_url(url: &str) -> Result<Config> {
    let config: Config = url.parse().map_err(|_| {
        Error::invalid_field(
            "server",
            format!(
                "{:?} is not a server address such as postgres://sync.example.org:5432/clinicdesk",
                clinicdesk_core::visible(url)
            ),
        )
    })?;
    if config.get_password().is_some() {
        return Err(Error::invalid_field(
            "server",
            "the server address must not hold a password: it would be seen in the process list and logs",
        ));
    }
    if config.get_dbname().is_none() {
        return Err(Error::invalid_field(
            "server",
            "the server address names no database (postgres://host:port/database)",
        ));
    }
    Ok(config)
}

/// Connects to `url` as `role` with `password`, over TLS pinned to `fingerprint`.
pub fn connect_pinned(url: &str, role: &str, password: &str, fingerprint: &str) -> Result<Client> {
    let mut config = parse_server_url(url)?;
    config.user(role).password(password);
    connect_pinned_admin(config, fingerprint)
}

/// Connects with `config` over TLS pinned to `fingerprint`.
pub(crate) fn connect_pinned_admin(mut config: Config, fingerprint: &str) -> Result<Client> {
    config
        .ssl_mode(postgres::config::SslMode::Require)
        .connect_timeout(std::time::Duration::from_secs(10))
        .application_name("clinicdesk");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let presented = Arc::new(Mutex::new(None));
    let verifier = PinnedCertificate {
        fingerprint: fingerprint.to_ascii_lowercase(),
        presented: presented.clone(),
        provider: provider.clone(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::unexpected(format!("setting up TLS: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    let connector = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
    config.connect(connector).map_err(|error| {
        let presented = presented.lock().expect("not poisoned").clone();
        match presented {
            Some(presented) if presented != fingerprint.to_ascii_lowercase() => Error::new(
                ErrorCode::ServerCertificateMismatch,
                format!(
                    "The server presented a certificate ({}) other than the enrolled one ({}); nothing was sent. If the server's certificate was replaced, enrol this workstation again",
                    short(&presented),
                    short(fingerprint)
                ),
            ),
            _ => server_error("connecting to the central server", error),
        }
    })
}

/// The first 16 hex digits of a fingerprint, grouped for reading aloud.
pub fn short(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .take(16)
        .collect::<Vec<_>>()
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The core error for a failure of the server or the way to it, met while `doing`.
pub fn server_error(doing: &str, error: postgres::Error) -> Error {
    if let Some(database) = error.as_db_error() {
        let code = database.code().code();
        let message = clinicdesk_core::visible(database.message());
        return match code {
            "CD001" | "CD002" | "CD003" | "CD004" | "CD005" | "CD009" => Error::new(
                ErrorCode::ServerRefused,
                format!("The central server refused it ({doing}): {message}; nothing of it was applied, and the changes wait in the outbox"),
            ),
            "CD010" => Error::new(
                ErrorCode::AuthenticationFailed,
                "Wrong username or password; check both and try again (an administrator can reset a password)",
            ),
            "CD011" => Error::new(
                ErrorCode::AccountDisabled,
                "This account is disabled; ask an administrator to enable it",
            ),
            "CD012" => Error::new(
                ErrorCode::AuthenticationFailed,
                "The central server cannot check this account's password yet (it was set before the server kept password checks): sign in on a workstation you used before and change your password there, or ask an administrator to reset it",
            ),
            "CD006" | "CD008" => Error::new(
                ErrorCode::WorkstationRevoked,
                format!("The central server does not accept this workstation: {message}. An administrator issues a new enrolment code (`clinicdesk server add-workstation`)"),
            ),
            // invalid_password, invalid_authorization_specification
            "28P01" | "28000" => Error::new(
                ErrorCode::WorkstationRevoked,
                "The central server refused this workstation's credentials (revoked, or the enrolment code is wrong or used)",
            ),
            "3D000" => Error::new(
                ErrorCode::ServerRefused,
                format!("The central server has no such database ({message})"),
            ),
            "42501" => Error::new(
                ErrorCode::ServerRefused,
                format!("The central server refused it ({doing}): {message}"),
            ),
            _ => Error::new(
                ErrorCode::ServerRefused,
                format!("The central server refused it ({doing}): {message} [{code}]"),
            ),
        };
    }
    Error::new(
        ErrorCode::ServerUnreachable,
        format!(
            "The central server could not be reached ({doing}): {}; changes wait in the outbox and go at the next sync",
            clinicdesk_core::visible(&error.to_string())
        ),
    )
}
