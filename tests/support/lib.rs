//! Shared set-up for the cross-crate tests: a fresh clinic in a temporary folder, on a clock the
//! test controls, with cheap Argon2id parameters (the cost is not what these tests are about).

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
