//! What the core takes from the outside world: the clock and the workstation's name.
//!
//! Time is passed in (docs/reference.md, "Design rules") so idle logoff, lockout and expiry are tested by moving
//! a [`ManualClock`] instead of sleeping.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use uuid::Uuid;

/// A source of the current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The machine's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn starting_at(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .now
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The clock and the workstation name every core call runs with.
#[derive(Clone)]
pub struct Environment {
    pub clock: Arc<dyn Clock>,
    pub workstation: String,
}

impl Environment {
    /// The real clock and this machine's host name (or `CLINICDESK_WORKSTATION` when set).
    pub fn system() -> Environment {
        let workstation = std::env::var("CLINICDESK_WORKSTATION")
            .ok()
            .filter(|name| !name.trim().is_empty())
            .unwrap_or_else(|| gethostname::gethostname().to_string_lossy().into_owned());
        Environment {
            clock: Arc::new(SystemClock),
            workstation,
        }
    }

    pub fn with_clock(clock: impl Clock + 'static, workstation: &str) -> Environment {
        Environment {
            clock: Arc::new(clock),
            workstation: workstation.to_owned(),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A new UUIDv7 for a syncable row, time-ordered by the injected clock.
    pub fn new_id(&self) -> Uuid {
        let now = self.now();
        let timestamp = uuid::Timestamp::from_unix(
            uuid::NoContext,
            now.timestamp().max(0) as u64,
            now.timestamp_subsec_nanos(),
        );
        Uuid::new_v7(timestamp)
    }
}

/// The store's timestamp format: UTC, milliseconds, `Z` (text order is time order).
pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads a timestamp written by [`format_timestamp`].
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}
