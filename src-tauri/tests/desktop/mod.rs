//! The real desktop app in its real webview, driven through tauri-driver and WebKitWebDriver
//! (under Xvfb): start it on a data folder, find, fill, click, wait for text, and save
//! screenshots. Shared by the end-to-end tests.

#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

pub const ADMIN_PASSWORD: &str = "violet tractor umbrella sings";
pub const STAFF_PASSWORD: &str = "copper willow basket thunder";
pub const WAIT: Duration = Duration::from_secs(30);

pub struct Desktop {
    driver: Child,
    pub client: Client,
    shots: PathBuf,
}

/// A test that fails stops the driver too (it would hold the test's output open).
impl Drop for Desktop {
    fn drop(&mut self) {
        if let Ok(None) = self.driver.try_wait() {
            Command::new("kill")
                .args(["-TERM", &self.driver.id().to_string()])
                .status()
                .ok();
            self.driver.wait().ok();
        }
    }
}

pub fn wait_for_port(port: u16, within: Duration) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < within,
            "tauri-driver did not listen on port {port} within {within:?}"
        );
        std::thread::yield_now();
    }
}

/// The process ids of the desktop app under test that are running now.
fn app_processes() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| is_running(*pid))
        .collect()
}

/// Whether `pid` is the app under test and still runs. A zombie has no executable any more (it
/// has exited: its files, and the store lock, are closed); a process id used again by another
/// program is not the app.
fn is_running(pid: u32) -> bool {
    let app = std::fs::canonicalize(env!("CARGO_BIN_EXE_clinicdesk-desktop")).unwrap();
    std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app)
}

/// Waits at most `within` for process `pid` to exit, told by the kernel: a pidfd of the process
/// becomes readable when it exits.
fn wait_for_exit(pid: u32, within: Duration) {
    // SAFETY: pidfd_open takes a process id and flags and returns a new descriptor (or -1), which
    // is closed below; poll reads one pollfd that lives on this stack frame.
    unsafe {
        let fd = libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) as libc::c_int;
        if fd < 0 {
            return; // it has gone already
        }
        let mut exited = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let milliseconds = libc::c_int::try_from(within.as_millis()).unwrap_or(libc::c_int::MAX);
        libc::poll(&mut exited, 1, milliseconds);
        libc::close(fd);
    }
}

/// Waits for the app processes in `pids` to exit after their WebDriver session closed; one
/// that has not exited after a while is asked to (SIGTERM), then stopped (SIGKILL).
fn wait_until_exited(pids: &[u32]) {
    for signal in [None, Some("-TERM"), Some("-KILL")] {
        let alive: Vec<u32> = pids
            .iter()
            .copied()
            .filter(|pid| is_running(*pid))
            .collect();
        if alive.is_empty() {
            return;
        }
        if let Some(signal) = signal {
            eprintln!(
                "the app (pid {alive:?}) had not exited after its window closed: kill {signal}"
            );
            for pid in &alive {
                Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status()
                    .ok();
            }
        }
        let started = Instant::now();
        for pid in &alive {
            wait_for_exit(
                *pid,
                Duration::from_secs(15).saturating_sub(started.elapsed()),
            );
        }
        if started.elapsed() > Duration::from_secs(1) {
            eprintln!(
                "the app took {:?} to exit after its window closed",
                started.elapsed()
            );
        }
    }
    let alive: Vec<u32> = pids
        .iter()
        .copied()
        .filter(|pid| is_running(*pid))
        .collect();
    assert!(
        alive.is_empty(),
        "the app (pid {alive:?}) did not exit even after SIGKILL"
    );
}

impl Desktop {
    pub async fn start(data_dir: &std::path::Path) -> Desktop {
        Desktop::start_with(data_dir, &[]).await
    }

    /// [`Desktop::start`] with more environment for the app (`CLINICDESK_…` settings).
    pub async fn start_with(data_dir: &std::path::Path, environment: &[(&str, &str)]) -> Desktop {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "the end-to-end tests need a display: run them with `xvfb-run -a` (scripts/test does)"
        );
        assert!(
            TcpStream::connect(("127.0.0.1", 4444)).is_err(),
            "port 4444 is already taken (a tauri-driver left over from another run?): stop it first"
        );
        let driver = Command::new("tauri-driver")
            .args([
                "--port",
                "4444",
                "--native-port",
                "4445",
                "--native-driver",
                "/usr/bin/WebKitWebDriver",
            ])
            .env("CLINICDESK_DATA_DIR", data_dir)
            .env("CLINICDESK_WORKSTATION", "front-desk-1")
            // WebKit's GPU compositing on, as WebKit's default, not the app's: with it off (how
            // the app starts, for memory), WebKitWebDriver's screenshot never returns once the
            // page has changed (WebKitGTK 2.50 under Xvfb; the page itself paints and answers).
            // `scripts/bench-memory` drives the app as it starts, through sign-in.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "0")
            .envs(environment.iter().copied())
            .spawn()
            .expect("tauri-driver is installed (scripts/setup installs it)");
        wait_for_port(4444, Duration::from_secs(30));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": env!("CARGO_BIN_EXE_clinicdesk-desktop") }),
        );
        let client = ClientBuilder::native()
            .capabilities(capabilities)
            .connect("http://127.0.0.1:4444")
            .await
            .expect("a WebDriver session");
        client.set_window_size(1280, 860).await.ok();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/e2e-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Desktop {
            driver,
            client,
            shots,
        }
    }

    /// Saves what the window shows, then fails with `why` (so a failure can be seen, not guessed).
    pub async fn fail(&self, why: String) -> ! {
        if let Ok(png) = self.client.screenshot().await {
            std::fs::write(self.shots.join("failure.png"), png).ok();
        }
        let text = match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        panic!("{why}\n--- the window showed (target/e2e-screenshots/failure.png) ---\n{text}");
    }

    pub async fn find(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => self.fail(format!("{css} did not appear: {e}")).await,
        }
    }

    pub async fn button(&self, text: &str) -> Element {
        let xpath = format!("//button[normalize-space()=\"{text}\"]");
        match self
            .client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::XPath(&xpath))
            .await
        {
            Ok(element) => element,
            Err(e) => {
                self.fail(format!("button {text:?} did not appear: {e}"))
                    .await
            }
        }
    }

    pub async fn click(&self, text: &str) {
        self.button(text)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {text:?}: {e}"));
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.ok();
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.unwrap()
    }

    /// Waits until the element's text contains `expected` (conditions, not sleeps).
    pub async fn wait_text(&self, css: &str, expected: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(text) = element.text().await {
                    if text.contains(expected) {
                        return text;
                    }
                }
            }
            if started.elapsed() > WAIT {
                self.fail(format!("{css} never said {expected:?}")).await;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Waits until the input's value is not empty (a field the app fills in after a call).
    pub async fn wait_value(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if let Ok(Some(value)) = element.prop("value").await {
                    if !value.is_empty() {
                        return value;
                    }
                }
            }
            if started.elapsed() > WAIT {
                self.fail(format!("{css} stayed empty")).await;
            }
            tokio::task::yield_now().await;
        }
    }

    /// Waits until nothing matches `css` (a confirmation closed, a banner dismissed).
    pub async fn wait_gone(&self, css: &str) {
        let started = Instant::now();
        while self.client.find(Locator::Css(css)).await.is_ok() {
            if started.elapsed() > WAIT {
                self.fail(format!("{css} stayed on screen")).await;
            }
            tokio::task::yield_now().await;
        }
    }

    pub async fn screenshot(&self, name: &str) {
        // Two animation frames: what the DOM holds now has been painted.
        self.client
            .execute_async(
                "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await
            .expect("a painted frame");
        self.check_accessibility(name).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), &png).unwrap();
        if std::env::var("UPDATE_SCREENSHOTS").as_deref() == Ok("1") {
            let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
        }
    }

    /// Runs axe-core (the npm package in `ui/node_modules`) inside the real webview on the screen
    /// on show, and fails on any serious or critical violation (WCAG 2 A and AA rules and axe's
    /// best practices), naming the rule and the elements.
    pub async fn check_accessibility(&self, screen: &str) {
        let loaded = self
            .client
            .execute("return typeof window.axe === 'object';", vec![])
            .await
            .expect("ask whether axe-core is loaded");
        if loaded != serde_json::Value::Bool(true) {
            let axe = std::fs::read_to_string(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("../ui/node_modules/axe-core/axe.min.js"),
            )
            .expect("axe-core is installed (npm ci in ui/, which scripts/build-ui runs)");
            self.client
                .execute(&axe, vec![])
                .await
                .expect("axe-core loads in the webview");
        }
        let found = self
            .client
            .execute_async(
                "const done = arguments[0];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then((result) => done(result.violations
                     .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                     .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(', ')})`)))
                   .catch((error) => done([`axe-core failed: ${error}`]));",
                vec![],
            )
            .await
            .expect("axe-core runs");
        let violations: Vec<String> = serde_json::from_value(found).unwrap_or_default();
        if !violations.is_empty() {
            self.fail(format!(
                "the screen {screen} has accessibility violations:\n{}",
                violations.join("\n")
            ))
            .await;
        }
    }

    pub async fn login(&self, username: &str, password: &str) {
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("Log in").await;
    }

    /// First login with a one-time password: the app insists on a new one.
    pub async fn first_login(&self, username: &str, one_time: &str) {
        self.login(username, one_time).await;
        self.find("#new-password").await;
        self.fill("#current", one_time).await;
        self.fill("#new-password", STAFF_PASSWORD).await;
        self.fill("#repeat", STAFF_PASSWORD).await;
        self.click("Save and continue").await;
        self.button("Log off").await;
    }

    pub async fn logoff(&self) {
        self.click("Log off").await;
        self.find("#username").await;
    }

    pub async fn open_patient(&self, mrn: &str) {
        self.click("Patients").await;
        self.fill("#search", mrn).await;
        self.wait_text("#results", mrn).await;
        self.find("#search")
            .await
            .send_keys("\u{E007}")
            .await
            .unwrap(); // Enter opens the first hit
        self.wait_text("h1", ",").await;
    }

    /// Closes the window and waits until the app's process has exited, so the next start (or a
    /// test touching the data folder) never meets the store still held by this one.
    pub async fn stop(mut self) {
        let running = app_processes();
        if running.is_empty() {
            eprintln!("no process of the app was found before closing it: nothing to wait for");
        }
        self.client.clone().close().await.ok();
        // SIGTERM, so tauri-driver also stops its WebKitWebDriver.
        Command::new("kill")
            .args(["-TERM", &self.driver.id().to_string()])
            .status()
            .ok();
        self.driver.wait().ok();
        wait_until_exited(&running);
    }
}
