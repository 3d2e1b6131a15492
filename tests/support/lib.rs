//! Shared set-up for the cross-crate tests: a fresh clinic in a temporary folder, on a clock the
//! test controls, with cheap Argon2id parameters (the cost is not what these tests are about).

pub mod central;
pub mod previous_schema;

use chrono::TimeZone;
use clinicdesk_core::{
    DataDir, Environment, InitRequest, KdfParams, ManualClock, Session, SlotSecret,
};
use clinicdesk_keyslot::{DataKey, KeySlotFile, SlotOwner};

pub const ADMIN: &str = "admin";
pub const ADMIN_PASSWORD: &str = "violet tractor umbrella sings";

pub const TEST_KDF: KdfParams = KdfParams {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};

pub struct Clinic {
    pub folder: tempfile::TempDir,
    pub data_dir: DataDir,
    pub clock: ManualClock,
    pub environment: Environment,
    pub recovery_key: String,
}

impl Clinic {
    pub fn new() -> Clinic {
        let folder = tempfile::tempdir().expect("temporary folder");
        let data_dir = DataDir::new(folder.path().join("data"));
        let clock =
            ManualClock::starting_at(chrono::Utc.with_ymd_and_hms(2026, 11, 2, 8, 0, 0).unwrap());
        let environment = Environment::with_clock(clock.clone(), "front-desk-1");
        let outcome = clinicdesk_core::init(
            &data_dir,
            InitRequest {
                clinic_name: "Riverside Family Clinic".into(),
                time_zone: "Europe/Berlin".into(),
                locale: None,
                admin_username: ADMIN.into(),
                admin_display_name: "Alex Admin".into(),
                admin_password: secret(ADMIN_PASSWORD),
                kdf: TEST_KDF,
            },
            &environment,
        )
        .expect("init");
        Clinic {
            folder,
            data_dir,
            clock,
            environment,
            recovery_key: outcome.recovery_key.to_string(),
        }
    }

    pub fn login(&self, username: &str, password: &str) -> clinicdesk_core::Result<Session> {
        Session::login(
            &self.data_dir,
            username,
            &secret(password),
            &self.environment,
        )
    }

    pub fn admin(&self) -> Session {
        self.login(ADMIN, ADMIN_PASSWORD)
            .expect("administrator logs in")
    }

    /// Adds a user and sets their own password, as a new member of staff would.
    pub fn add_user(&self, username: &str, role: &str, password: &str) {
        let mut admin = self.admin();
        let temporary = admin
            .add_user(
                username,
                &format!("Staff {username}"),
                clinicdesk_core::Role::from_code(role).expect("a role"),
            )
            .expect("add user");
        let mut first = self
            .login(username, &temporary.0)
            .expect("temporary password logs in");
        first
            .change_password(&secret(&temporary.0), &secret(password))
            .expect("choose a password");
    }

    /// The store opened directly with the data key, beside the core: what is really on disk.
    pub fn raw_store(&self) -> clinicdesk_store::rusqlite::Connection {
        clinicdesk_store::open_store(&self.data_dir.store_file(), &self.data_key()).unwrap()
    }

    /// The data key, straight from the administrator's slot (what a test needs to look inside).
    pub fn data_key(&self) -> DataKey {
        KeySlotFile::new(self.data_dir.key_slot_file())
            .read()
            .unwrap()
            .unlock(&SlotOwner::user(ADMIN), &secret(ADMIN_PASSWORD))
            .unwrap()
            .data_key
    }
}

impl Default for Clinic {
    fn default() -> Clinic {
        Clinic::new()
    }
}

pub fn secret(text: &str) -> SlotSecret {
    SlotSecret::new(text.to_owned())
}

/// The staff every workflow test uses, all with the same password.
pub const STAFF_PASSWORD: &str = "saffron harbour tundra echo";

impl Clinic {
    /// Adds a front-desk user, a nurse, a clinician and a manager.
    pub fn with_staff() -> Clinic {
        let clinic = Clinic::new();
        for (username, role) in [
            ("frank", "front_desk"),
            ("nurse.joy", "nurse"),
            ("dr.cole", "clinician"),
            ("mona", "manager"),
        ] {
            clinic.add_user(username, role, STAFF_PASSWORD);
        }
        clinic
    }

    pub fn staff(&self, username: &str) -> Session {
        self.login(username, STAFF_PASSWORD)
            .expect("staff member logs in")
    }

    /// Registers a patient as the front desk (confirmed, so similar test patients are allowed).
    pub fn register(&self, given: &str, family: &str, birth: &str, phone: Option<&str>) -> String {
        let new = clinicdesk_core::NewPatient {
            given_name: given.into(),
            family_name: family.into(),
            date_of_birth: birth.into(),
            sex: clinicdesk_core::Sex::Unknown,
            phone: phone.map(str::to_owned),
            restricted: false,
        };
        match self
            .staff("frank")
            .register_patient(&new, true)
            .expect("register")
        {
            clinicdesk_core::Registration::Registered { mrn, .. } => mrn,
            other => panic!("not registered: {other:?}"),
        }
    }
}

/// A clinic with staff and one of everything an operation needs: a patient, a restricted patient
/// whose care team is someone else, and a provider.
pub struct Desk {
    pub clinic: Clinic,
    pub mrn: String,
    pub restricted_mrn: String,
    pub provider: clinicdesk_core::ProviderId,
    /// Counts the uses, so each booking or day off gets its own time.
    pub case: u32,
}

impl Desk {
    pub fn new() -> Desk {
        let clinic = Clinic::with_staff();
        let mrn = clinic.register("Ngozi", "Okafor", "1984-03-27", None);
        let mut frank = clinic.staff("frank");
        let restricted = clinicdesk_core::NewPatient {
            given_name: "Hans".into(),
            family_name: "Weber".into(),
            date_of_birth: "1951-12-24".into(),
            sex: clinicdesk_core::Sex::Male,
            phone: None,
            restricted: true,
        };
        let clinicdesk_core::Registration::Registered {
            mrn: restricted_mrn,
            ..
        } = frank.register_patient(&restricted, true).unwrap()
        else {
            panic!("registered")
        };
        let provider = frank.add_provider("Dr. Cole", None, None).unwrap().id;
        drop(frank);
        Desk {
            clinic,
            mrn,
            restricted_mrn,
            provider,
            case: 0,
        }
    }

    /// A session of `username` (`admin`, or one of the staff).
    pub fn as_user(&self, username: &str) -> Session {
        match username {
            ADMIN => self.clinic.admin(),
            staff => self.clinic.staff(staff),
        }
    }

    /// A booking of the desk's patient `mrn` with its provider, 15 minutes, each call half an
    /// hour after the last (from 10 November 2026), outside hours on purpose.
    pub fn booking(&mut self, mrn: &str, reason: Option<&str>) -> clinicdesk_core::BookingRequest {
        self.case += 1;
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 10)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + chrono::Duration::minutes(30 * i64::from(self.case));
        clinicdesk_core::BookingRequest {
            mrn: mrn.into(),
            provider_id: self.provider.clone(),
            starts_local: start,
            minutes: Some(15),
            appointment_type_id: None,
            reason: reason.map(str::to_owned),
            outside_hours_override: true,
            repeat: None,
            repeated_hour: Default::default(),
        }
    }

    /// A heart rate recorded for the desk's patient by `nurse`, for marking in error.
    pub fn observation(&self, nurse: &mut Session) -> clinicdesk_core::ObservationId {
        let reading = clinicdesk_core::VitalReading {
            kind: clinicdesk_core::VitalKind::HeartRate,
            value: 72.0,
            unit: None,
        };
        nurse
            .record_vitals(&self.mrn, &[reading], None)
            .unwrap()
            .observations[0]
            .id
            .clone()
    }
}

impl Default for Desk {
    fn default() -> Desk {
        Desk::new()
    }
}

/// Changes one byte in the middle of a page of the store, as a disk fault would: the root page of
/// the table or index `page_of`, or page 1 for `"first page"`. The write-ahead log is folded into
/// the file first (so no newer copy of the page hides the damage); the key comes from
/// `username`'s slot.
pub fn damage_store_page(
    data_dir: &std::path::Path,
    username: &str,
    password: &str,
    page_of: &str,
) {
    use std::io::{Read, Seek, SeekFrom, Write};
    let key = KeySlotFile::new(data_dir.join("keyslots.json"))
        .read()
        .unwrap()
        .unlock(&SlotOwner::user(username), &secret(password))
        .unwrap()
        .data_key;
    let store_file = data_dir.join("clinicdesk.db");
    let store = clinicdesk_store::open_store(&store_file, &key).unwrap();
    store
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let page: i64 = if page_of == "first page" {
        1
    } else {
        store
            .query_row(
                "SELECT rootpage FROM sqlite_master WHERE name = ?1",
                [page_of],
                |row| row.get(0),
            )
            .unwrap()
    };
    drop(store);
    let page_size = 4096;
    let offset = (page as u64 - 1) * page_size + 2000;
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&store_file)
        .unwrap();
    let mut byte = [0u8];
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.read_exact(&mut byte).unwrap();
    file.seek(SeekFrom::Start(offset)).unwrap();
    file.write_all(&[byte[0] ^ 0x5a]).unwrap();
    file.sync_all().unwrap();
}
