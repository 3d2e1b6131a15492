//! An update server on the loopback interface and the project's signing as the Tauri bundler does
//! it (a minisign key, the version in the signed comment), with real Debian packages to offer.
//! Shared by the update tests and the end-to-end test.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine;
use serde_json::{json, Value};

/// A minisign key pair as `tauri signer generate` makes one.
pub struct SigningKey {
    public: minisign::PublicKey,
    secret: minisign::SecretKey,
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        let pair = minisign::KeyPair::generate_unencrypted_keypair().unwrap();
        SigningKey {
            public: pair.pk,
            secret: pair.sk,
        }
    }

    /// The public key as the app's configuration holds it (base64 of the key file).
    pub fn public_key(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.public.to_box().unwrap().to_string())
    }

    /// The signature of `bytes` as the Tauri bundler writes it into `.sig` (base64 of the
    /// signature file, the version in the trusted comment).
    pub fn sign(&self, bytes: &[u8], file: &str, version: &str) -> String {
        self.sign_with_comment(
            bytes,
            &format!("timestamp:1764633600\tfile:{file}\tversion:{version}"),
        )
    }

    /// A signature as tauri-cli made them before it recorded the version.
    pub fn sign_without_version(&self, bytes: &[u8], file: &str) -> String {
        self.sign_with_comment(bytes, &format!("timestamp:1764633600\tfile:{file}"))
    }

    fn sign_with_comment(&self, bytes: &[u8], trusted: &str) -> String {
        let signature = minisign::sign(
            Some(&self.public),
            &self.secret,
            std::io::Cursor::new(bytes),
            Some(trusted),
            Some("signature from tauri secret key"),
        )
        .unwrap();
        base64::engine::general_purpose::STANDARD.encode(signature.to_string())
    }
}

/// A real Debian package of `version`, built with dpkg-deb: the app's binary path and a file
/// naming the version.
pub fn debian_package(folder: &Path, version: &str) -> Vec<u8> {
    let tree = folder.join(format!("tree-{version}"));
    std::fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(tree.join("usr/bin")).unwrap();
    std::fs::create_dir_all(tree.join("usr/share/doc/clinicdesk")).unwrap();
    std::fs::write(
        tree.join("DEBIAN/control"),
        format!(
            "Package: clinicdesk\nVersion: {version}\nArchitecture: amd64\nMaintainer: Clinicdesk <maintainers@clinicdesk.example>\nDescription: Clinicdesk {version}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        tree.join("usr/bin/clinicdesk-desktop"),
        format!("#!/bin/sh\necho Clinicdesk {version}\n"),
    )
    .unwrap();
    std::fs::write(tree.join("usr/share/doc/clinicdesk/VERSION"), version).unwrap();
    let package = folder.join(format!("clinicdesk_{version}_amd64.deb"));
    let built = std::process::Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&tree)
        .arg(&package)
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    std::fs::read(package).unwrap()
}

/// What the loopback server answers for one path.
#[derive(Clone)]
pub enum Reply {
    Json(Value),
    Text(&'static str),
    Bytes(Vec<u8>),
    /// Announces the whole length, sends the first `sent` bytes, and closes.
    CutOff {
        bytes: Vec<u8>,
        sent: usize,
    },
}

/// An update server on 127.0.0.1 (HTTP/1.1, one request per connection).
pub struct UpdateServer {
    port: u16,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
}

impl UpdateServer {
    pub fn start() -> UpdateServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let replies: Arc<Mutex<HashMap<String, Reply>>> = Default::default();
        let serving = replies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                        break;
                    }
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .to_owned();
                let reply = serving.lock().unwrap().get(&path).cloned();
                let (status, kind, body, declared) = match reply {
                    None => ("404 Not Found", "text/plain", b"not here".to_vec(), None),
                    Some(Reply::Json(value)) => (
                        "200 OK",
                        "application/json",
                        value.to_string().into_bytes(),
                        None,
                    ),
                    Some(Reply::Text(text)) => ("200 OK", "text/html", text.into(), None),
                    Some(Reply::Bytes(bytes)) => {
                        ("200 OK", "application/octet-stream", bytes, None)
                    }
                    Some(Reply::CutOff { bytes, sent }) => (
                        "200 OK",
                        "application/octet-stream",
                        bytes[..sent].to_vec(),
                        Some(bytes.len()),
                    ),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    declared.unwrap_or(body.len())
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
                let _ = stream.flush();
            }
        });
        UpdateServer { port, replies }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn serve(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_owned(), reply);
    }

    /// Offers `version` at /latest.json: the package at /package.deb with `signature`.
    pub fn offer(&self, version: &str, signature: &str, schema_version: Option<i64>) {
        let mut manifest = json!({
            "version": version,
            "notes": format!("Clinicdesk {version}: allergies on the day list."),
            "pub_date": "2026-12-01T09:00:00Z",
            "platforms": {
                "linux-x86_64": { "signature": signature, "url": self.url("/package.deb") }
            }
        });
        if let Some(schema) = schema_version {
            manifest["schema_version"] = json!(schema);
        }
        self.serve("/latest.json", Reply::Json(manifest));
    }
}
