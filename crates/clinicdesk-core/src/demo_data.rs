//! The demo and benchmark data generator: a realistic clinic from a seed (names with collisions
//! and typos, phones, providers with weekly hours, years of appointments, vitals, notes).
//! Deterministic per seed; written as a bulk import in large transactions.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use clinicdesk_error::{Error, Result};
use clinicdesk_store::rusqlite::{params, Connection};
use clinicdesk_store::sql_error;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::environment::format_timestamp;
use crate::permission::{Permission, Role};
use crate::recorded_write::RecordedWrite;
use crate::session::{Session, StoreWorker};
use crate::sync::BulkOutbox;
use crate::vital_signs::{body_mass_index, interpret, VitalKind};

/// The reference data sets (docs/reference.md, "Measured targets").
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DemoSize {
    /// A handful of patients: enough to try every screen.
    Tiny,
    /// 20 000 patients, 400 000 observations, 100 000 appointments, 50 000 notes.
    Small,
    /// 1 000 000 patients, 20 000 000 observations, 5 000 000 appointments, 2 000 000 notes.
    Large,
}

impl DemoSize {
    pub fn from_name(name: &str) -> Result<DemoSize> {
        match name.trim().to_lowercase().as_str() {
            "tiny" => Ok(DemoSize::Tiny),
            "small" => Ok(DemoSize::Small),
            "large" => Ok(DemoSize::Large),
            other => Err(Error::invalid_input(format!(
                "size {other:?} is not tiny, small or large"
            ))),
        }
    }

    /// (patients, observations, appointments, notes, providers)
    pub fn counts(self) -> (u64, u64, u64, u64, u64) {
        match self {
            DemoSize::Tiny => (200, 4_000, 1_000, 500, 4),
            DemoSize::Small => (20_000, 400_000, 100_000, 50_000, 12),
            DemoSize::Large => (1_000_000, 20_000_000, 5_000_000, 2_000_000, 250),
        }
    }
}

/// What the generator wrote.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoSummary {
    pub patients: u64,
    pub phones: u64,
    pub providers: u64,
    pub appointments: u64,
    pub vitals_sets: u64,
    pub observations: u64,
    pub notes: u64,
    pub allergies: u64,
    pub medications: u64,
    pub problems: u64,
    pub rows: u64,
}

const GIVEN: &[&str] = &[
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Elijah",
    "Sophia",
    "Lucas",
    "Mia",
    "Mateo",
    "Amelia",
    "Levi",
    "Harper",
    "Ethan",
    "Ngozi",
    "Chidi",
    "Amara",
    "Kwame",
    "Fatima",
    "Omar",
    "Aisha",
    "Yusuf",
    "Leila",
    "Hassan",
    "Mei",
    "Wei",
    "Jun",
    "Hana",
    "Yuki",
    "Kenji",
    "Priya",
    "Arjun",
    "Ananya",
    "Rohan",
    "Sofia",
    "Mateus",
    "Lucia",
    "Diego",
    "Camila",
    "Valentina",
    "Hans",
    "Greta",
    "Lena",
    "Jonas",
    "Klara",
    "Felix",
    "Marie",
    "Paul",
    "Ingrid",
    "Lars",
    "Astrid",
    "Nils",
    "Anna",
    "Maria",
    "Peter",
    "John",
    "Mary",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Barbara",
    "David",
    "Susan",
    "Joseph",
    "Karen",
    "Thomas",
    "Nancy",
    "Daniel",
    "Lisa",
    "Matthew",
    "Sarah",
    "Andrew",
    "Zoe",
    "Isaac",
    "Ruth",
    "Samuel",
    "Esther",
    "Ibrahim",
    "Zainab",
    "Tariq",
    "Nadia",
    "Ivan",
    "Olga",
    "Dmitri",
    "Katya",
    "Piotr",
    "Agnieszka",
    "Tomasz",
    "Ewa",
    "Giulia",
    "Marco",
    "Francesca",
    "Luca",
    "Chiara",
    "Siobhan",
    "Liam",
    "Aoife",
];

/// The names of [`GIVEN`] that are women's names: a demo patient's recorded sex agrees with
/// their name (the others are men's names here).
const FEMALE_GIVEN: &[&str] = &[
    "Emma",
    "Olivia",
    "Ava",
    "Sophia",
    "Mia",
    "Amelia",
    "Harper",
    "Ngozi",
    "Amara",
    "Fatima",
    "Aisha",
    "Leila",
    "Mei",
    "Hana",
    "Yuki",
    "Priya",
    "Ananya",
    "Sofia",
    "Lucia",
    "Camila",
    "Valentina",
    "Greta",
    "Lena",
    "Klara",
    "Marie",
    "Ingrid",
    "Astrid",
    "Anna",
    "Maria",
    "Mary",
    "Linda",
    "Patricia",
    "Barbara",
    "Susan",
    "Karen",
    "Nancy",
    "Lisa",
    "Sarah",
    "Zoe",
    "Ruth",
    "Esther",
    "Zainab",
    "Nadia",
    "Olga",
    "Katya",
    "Agnieszka",
    "Ewa",
    "Giulia",
    "Francesca",
    "Chiara",
    "Siobhan",
    "Aoife",
];
const FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Okafor",
    "Okoro",
    "Adeyemi",
    "Mensah",
    "Boateng",
    "Nkemelu",
    "Abubakar",
    "Haddad",
    "Khalil",
    "Nasser",
    "Rahman",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Nguyen",
    "Tran",
    "Kim",
    "Park",
    "Choi",
    "Tanaka",
    "Suzuki",
    "Sato",
    "Patel",
    "Sharma",
    "Singh",
    "Gupta",
    "Kumar",
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Kowalski",
    "Nowak",
    "Wiśniewski",
    "Ivanov",
    "Petrov",
    "Rossi",
    "Russo",
    "Ferrari",
    "Esposito",
    "Bianchi",
    "Romano",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Byrne",
    "Walsh",
    "Dubois",
    "Moreau",
    "Laurent",
    "Lefebvre",
    "Silva",
    "Santos",
    "Oliveira",
    "Pereira",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsen",
    "Hansen",
    "Jensen",
    "Nielsen",
    "Okafor-Weber",
    "Garcia-Lopez",
];
const NOTE_PHRASES: &[&str] = &[
    "Seen for follow-up of hypertension; home readings reviewed.",
    "Presents with dry cough for two weeks; lungs clear on auscultation.",
    "Diabetes review: HbA1c improved, continue metformin.",
    "Sore throat and low-grade fever; advised rest and fluids.",
    "Lower back pain after lifting; physiotherapy referral made.",
    "Annual check-up; no concerns raised; vaccinations up to date.",
    "Medication reconciliation completed with the patient.",
    "Wound check: healing well, no signs of infection.",
    "Anxiety discussed; sleep hygiene advice given; review in four weeks.",
    "Asthma review: inhaler technique checked and corrected.",
];

/// Introduces one typo (swap, drop or double a letter), as real registers contain.
fn with_typo(rng: &mut ChaCha8Rng, name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() < 4 {
        return name.to_owned();
    }
    let at = rng.gen_range(1..chars.len() - 1);
    match rng.gen_range(0..3) {
        0 => chars.swap(at, at + 1),
        1 => {
            chars.remove(at);
        }
        _ => {
            let c = chars[at];
            chars.insert(at, c);
        }
    }
    chars.into_iter().collect()
}

/// Rows per transaction of the bulk load: large enough that commits cost little, small enough
/// that the write-ahead log stays a modest file.
const BULK_TRANSACTION_ROWS: u64 = 50_000;

/// One transaction of the load, left out of the change journal (see
/// [`RecordedWrite::without_journal`]).
fn bulk_write<T>(
    worker: &mut StoreWorker,
    load: impl FnOnce(&mut RecordedWrite<'_>) -> Result<T>,
) -> Result<T> {
    worker.write(|tx| tx.without_journal("demo data generated", load))
}

struct Generator {
    rng: ChaCha8Rng,
    summary: DemoSummary,
    /// The random bits of the last id: ids count up from a random start (RFC 9562 6.2, method 2,
    /// monotonic random), so every row is appended to its primary-key index, not inserted
    /// somewhere in the middle of it.
    last_id_bits: Option<u128>,
}

impl Generator {
    fn new(seed: u64) -> Generator {
        Generator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            summary: DemoSummary::default(),
            last_id_bits: None,
        }
    }

    /// A UUIDv7 of `at`, greater than every id this generator made before.
    fn id(&mut self, at: DateTime<Utc>) -> String {
        // Ten random bytes per id, as before the ids counted up: the rest of the clinic drawn
        // from the same seed stays the same.
        let mut drawn = [0u8; 10];
        self.rng.fill(&mut drawn);
        let bits = match self.last_id_bits {
            // A 72-bit start leaves room for 2^72 more ids below the 74 bits.
            None => u128::from_be_bytes(
                [[0u8; 7].as_slice(), &drawn[..9]]
                    .concat()
                    .try_into()
                    .expect("16 bytes"),
            ),
            Some(last) => last + 1 + u128::from(drawn[0] & 0x0f),
        };
        self.last_id_bits = Some(bits);
        // rand_a (12 bits) and rand_b (62 bits) hold the counter, high bits first.
        let rand_a = ((bits >> 62) & 0xfff) as u16;
        let rand_b = (bits & ((1u128 << 62) - 1)) as u64;
        let mut random = [0u8; 10];
        random[..2].copy_from_slice(&rand_a.to_be_bytes());
        random[2..].copy_from_slice(&rand_b.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(at.timestamp_millis().max(0) as u64, &random)
            .into_uuid()
            .to_string()
    }
}

impl Session {
    /// Fills an empty store with a generated clinic. Administrators only, and only while the
    /// store holds no patients, so a real clinic's records are never mixed with made-up ones.
    /// `progress` is told the rows written so far.
    ///
    /// Vitals are recorded by `recorder` and notes written by `author` (usernames) when given.
    pub fn generate_demo_data(
        &mut self,
        size: DemoSize,
        seed: u64,
        recorder: Option<&str>,
        author: Option<&str>,
        progress: impl FnMut(u64),
    ) -> Result<DemoSummary> {
        self.prepare_demo_data(size, seed, recorder, author)?
            .run(progress)
    }

    /// Authorises demo data and checks the store is empty; [`DemoDataJob::run`] then fills it
    /// on a connection of its own, without this session.
    pub fn prepare_demo_data(
        &mut self,
        size: DemoSize,
        seed: u64,
        recorder: Option<&str>,
        author: Option<&str>,
    ) -> Result<DemoDataJob> {
        let now = self.authorize("demo_data.generate", Some(Permission::UsersManage), None)?;
        let patients_now: i64 = self
            .connection()?
            .query_row("SELECT count(*) FROM patients", [], |row| row.get(0))
            .map_err(sql_error("counting patients"))?;
        if patients_now > 0 {
            return Err(Error::conflict(
                "this store already holds patients; demo data goes only into a new, empty store",
            ));
        }
        let user_id = self.user().id.to_string();
        let user_named = |session: &Session, name: Option<&str>| -> Result<String> {
            match name {
                Some(name) => session
                    .connection()?
                    .query_row("SELECT id FROM users WHERE username = ?1", [name], |row| {
                        row.get(0)
                    })
                    .map_err(|_| Error::not_found(format!("there is no user named {name}"))),
                None => Ok(user_id.clone()),
            }
        };
        let recorder_id = user_named(self, recorder)?;
        let author_id = user_named(self, author)?;
        Ok(DemoDataJob {
            worker: self.store_worker()?,
            size,
            seed,
            started: now,
            user_id,
            recorder_id,
            author_id,
        })
    }
}

/// Demo data a session authorised, generated on a connection of its own.
pub struct DemoDataJob {
    worker: StoreWorker,
    size: DemoSize,
    seed: u64,
    started: DateTime<Utc>,
    user_id: String,
    recorder_id: String,
    author_id: String,
}

impl DemoDataJob {
    /// Fills the store; `progress` is told the rows written so far.
    pub fn run(mut self, mut progress: impl FnMut(u64)) -> Result<DemoSummary> {
        let (size, seed, started) = (self.size, self.seed, self.started);
        let (user_id, recorder_id, author_id) = (
            self.user_id.clone(),
            self.recorder_id.clone(),
            self.author_id.clone(),
        );
        let (patients, observations, appointments, notes, providers) = size.counts();
        let mut generator = Generator::new(seed);
        let worker = &mut self.worker;
        let clinic_id = crate::recorded_write::clinic_id(&worker.connection)?;
        let zone = crate::scheduling::clinic_zone(&worker.connection)?;
        // A bulk import: commits need not reach the disk one by one, and a large page cache
        // keeps index pages decrypted between rows.
        worker
            .connection
            .execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -262144;")
            .map_err(sql_error("preparing the import"))?;
        let today = started.date_naive();

        // The generated rows go to the central server like any others: one outbox row each,
        // written in the same transaction as the rows.
        let stamp = format_timestamp(started);
        let mut outbox =
            BulkOutbox::start(&worker.connection, &worker.environment, &stamp, &user_id)?;
        // The load is not journaled row by row (it would double its size): each of its
        // transactions records a gap in the journal instead (`bulk_write`).
        let generated = (|session: &mut StoreWorker| -> Result<()> {
            // Providers with weekly hours (Mon–Fri 08:00–12:00 and 13:00–17:00).
            let provider_ids = bulk_write(session, |tx| {
                let mut ids = Vec::new();
                for index in 0..providers {
                    let id = generator.id(started);
                    let given = GIVEN[generator.rng.gen_range(0..GIVEN.len())];
                    let family = FAMILY[generator.rng.gen_range(0..FAMILY.len())];
                    tx.execute(
                    "INSERT INTO providers (id, created_at, created_by, updated_at, updated_by, clinic_id, display_name, specialty)
                     VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6)",
                    params![id, format_timestamp(started), user_id, clinic_id, format!("Dr. {given} {family}"), ["General practice", "Paediatrics", "Internal medicine"][index as usize % 3]],
                )
                .map_err(sql_error("adding a provider"))?;
                    for weekday in 1..=5 {
                        for (from, to) in [(8 * 60, 12 * 60), (13 * 60, 17 * 60)] {
                            let hours_id = generator.id(started);
                            tx.execute(
                            "INSERT INTO provider_working_hours (id, created_at, created_by, updated_at, updated_by, provider_id, weekday, start_minute, end_minute)
                             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7)",
                            params![hours_id, format_timestamp(started), user_id, id, weekday, from, to],
                        )
                        .map_err(sql_error("adding working hours"))?;
                        }
                    }
                    ids.push(id);
                }
                for (name, minutes) in [
                    ("Consultation", 20),
                    ("Follow-up", 15),
                    ("Annual check-up", 40),
                ] {
                    let type_id = generator.id(started);
                    tx.execute(
                    "INSERT INTO appointment_types (id, created_at, created_by, updated_at, updated_by, clinic_id, name, default_minutes)
                     VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6)",
                    params![type_id, format_timestamp(started), user_id, clinic_id, name, minutes],
                )
                .map_err(sql_error("adding appointment types"))?;
                }
                outbox.record_new_rows(tx)?;
                Ok(ids)
            })?;
            generator.summary.providers = providers;

            // Patients, in batches.
            let mut patient_ids: Vec<String> = Vec::with_capacity(patients as usize);
            let batch = BULK_TRANSACTION_ROWS;
            let mut written = 0u64;
            while written < patients {
                let count = batch.min(patients - written);
                let new_ids = bulk_write(session, |tx| {
                    let ids = insert_patients(
                        tx,
                        &mut generator,
                        &clinic_id,
                        &user_id,
                        started,
                        today,
                        count,
                    )?;
                    outbox.record_new_rows(tx)?;
                    Ok(ids)
                })?;
                patient_ids.extend(new_ids);
                written += count;
                progress(generator.summary.rows);
            }
            // Appointments: each provider's working slots (20 minutes) over past years and the next
            // weeks; within one slot the providers see different patients, so nobody is double booked.
            let slots_per_day = 24u64; // 8 hours of 20-minute slots
            let days_needed = appointments.div_ceil(providers * slots_per_day);
            let mut day = today - Duration::days((days_needed as f64 * 7.0 / 5.0 * 0.9) as i64);
            let mut booked = 0u64;
            while booked < appointments {
                // Many days per transaction: a commit per day writes the same index pages again.
                let first_day = day;
                let (count, next_day) = bulk_write(session, |tx| {
                    let mut count = 0u64;
                    let mut day = first_day;
                    while booked + count < appointments && count < BULK_TRANSACTION_ROWS {
                        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
                            count += insert_day_of_appointments(
                                tx,
                                &mut generator,
                                &clinic_id,
                                &user_id,
                                started,
                                zone,
                                day,
                                &provider_ids,
                                &patient_ids,
                                appointments - booked - count,
                                today,
                            )?;
                        }
                        day += Duration::days(1);
                    }
                    outbox.record_new_rows(tx)?;
                    Ok((count, day))
                })?;
                booked += count;
                day = next_day;
                progress(generator.summary.rows);
            }
            // Vitals sets (six observations each) and notes, patient by patient, so each patient's
            // rows sit together in the per-patient indexes (inserted at the end, not scattered).
            let chunk = 25_000usize;
            let chunks = patient_ids.len().div_ceil(chunk).max(1) as u64;
            let mut made = 0u64;
            let mut noted = 0u64;
            for (index, patients_chunk) in patient_ids.chunks(chunk).enumerate() {
                let remaining_chunks = chunks - index as u64;
                let observation_target = (observations - made).div_ceil(remaining_chunks);
                let note_target = (notes - noted).div_ceil(remaining_chunks);
                let recorder = recorder_id.clone();
                let author = author_id.clone();
                let (count, written_notes) = bulk_write(session, |tx| {
                    let count = insert_vitals(
                        tx,
                        &mut generator,
                        &recorder,
                        patients_chunk,
                        observation_target,
                        started,
                    )?;
                    let written_notes = insert_notes(
                        tx,
                        &mut generator,
                        &author,
                        patients_chunk,
                        note_target,
                        started,
                    )?;
                    insert_safety_facts(
                        tx,
                        &mut generator,
                        &recorder,
                        &author,
                        patients_chunk,
                        started,
                    )?;
                    outbox.record_new_rows(tx)?;
                    Ok((count, written_notes))
                })?;
                made += count;
                noted += written_notes;
                progress(generator.summary.rows);
            }

            Ok(())
        })(worker);
        generated?;
        let summary = generator.summary.clone();
        worker.write(|tx| {
            let entry = tx
                .entry("demo_data.generate")
                .details(serde_json::json!({ "size": size, "seed": seed, "summary": summary }));
            tx.audit(crate::audit::NewAuditEntry {
                occurred_at: started,
                ..entry
            })?;
            Ok(())
        })?;
        Ok(summary)
    }
}

fn insert_patients(
    tx: &Connection,
    generator: &mut Generator,
    clinic_id: &str,
    user_id: &str,
    at: DateTime<Utc>,
    today: NaiveDate,
    count: u64,
) -> Result<Vec<String>> {
    let stamp = format_timestamp(at);
    let mut patient = tx
        .prepare_cached(
            "INSERT INTO patients (id, created_at, created_by, updated_at, updated_by, clinic_id, mrn, given_name, family_name, date_of_birth, sex)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(sql_error("preparing patients"))?;
    let mut phone = tx
        .prepare_cached(
            "INSERT INTO patient_phones (id, created_at, created_by, updated_at, updated_by, patient_id, kind, number, digits, digits_tail, is_primary)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, 'mobile', ?5, ?6, ?7, 1)",
        )
        .map_err(sql_error("preparing phones"))?;
    let mut mrn_taken = tx
        .prepare_cached("SELECT count(*) FROM patients WHERE mrn = ?1")
        .map_err(sql_error("preparing"))?;
    let mut ids = Vec::with_capacity(count as usize);
    let mut previous: Option<(String, String, String)> = None;
    for _ in 0..count {
        let rng = &mut generator.rng;
        // About 1 in 200 is a second record of the previous person (same name and birth date,
        // sometimes with a typo): the duplicates a real register holds.
        let (given, family, birth) = match (&previous, rng.gen_range(0..200)) {
            (Some((g, f, b)), 0) => {
                let typo = rng.gen_bool(0.5);
                (
                    if typo { with_typo(rng, g) } else { g.clone() },
                    f.clone(),
                    b.clone(),
                )
            }
            _ => {
                let given = GIVEN[rng.gen_range(0..GIVEN.len())].to_owned();
                let family = FAMILY[rng.gen_range(0..FAMILY.len())].to_owned();
                let family = if rng.gen_range(0..50) == 0 {
                    with_typo(rng, &family)
                } else {
                    family
                };
                let age_days = rng.gen_range(0..(95 * 365));
                let birth = (today - Duration::days(age_days)).to_string();
                (given, family, birth)
            }
        };
        // Mostly the sex the name suggests; now and then "other" or "unknown", as registers hold.
        let drawn = ["female", "male", "female", "male", "other", "unknown"]
            [rng.gen_range(0..6usize).min(rng.gen_range(0..6usize))];
        let sex = match drawn {
            "female" | "male" if FEMALE_GIVEN.contains(&given.as_str()) => "female",
            "female" | "male" => "male",
            other => other,
        };
        let mut digits: Vec<u8> = (0..9).map(|_| rng.gen_range(0..10u8)).collect();
        digits[0] = rng.gen_range(1..10);
        let mut mrn: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        mrn.push(char::from(b'0' + crate::mrn::check_digit(&digits)));
        while mrn_taken
            .query_row([&mrn], |row| row.get::<_, i64>(0))
            .map_err(sql_error("checking an MRN"))?
            > 0
        {
            let last = mrn.as_bytes()[8];
            digits[8] = (last - b'0' + 1) % 10;
            mrn = digits.iter().map(|d| char::from(b'0' + d)).collect();
            mrn.push(char::from(b'0' + crate::mrn::check_digit(&digits)));
        }
        let id = generator.id(at);
        patient
            .execute(params![
                id, stamp, user_id, clinic_id, mrn, given, family, birth, sex
            ])
            .map_err(sql_error("adding a patient"))?;
        let number: String = format!(
            "+49 1{:02} {:07}",
            generator.rng.gen_range(50..80),
            generator.rng.gen_range(0..10_000_000)
        );
        let phone_digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
        let phone_id = generator.id(at);
        phone
            .execute(params![
                phone_id,
                stamp,
                user_id,
                id,
                number,
                phone_digits,
                &phone_digits[phone_digits.len() - 7..]
            ])
            .map_err(sql_error("adding a phone"))?;
        generator.summary.patients += 1;
        generator.summary.phones += 1;
        generator.summary.rows += 2;
        previous = Some((given, family, birth));
        ids.push(id);
    }
    Ok(ids)
}

#[allow(clippy::too_many_arguments)]
fn insert_day_of_appointments(
    tx: &Connection,
    generator: &mut Generator,
    clinic_id: &str,
    user_id: &str,
    at: DateTime<Utc>,
    zone: chrono_tz::Tz,
    day: NaiveDate,
    providers: &[String],
    patients: &[String],
    remaining: u64,
    today: NaiveDate,
) -> Result<u64> {
    let stamp = format_timestamp(at);
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO appointments (id, created_at, created_by, updated_at, updated_by, clinic_id, patient_id, provider_id, starts_at, ends_at, status, reason)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(sql_error("preparing appointments"))?;
    let mut count = 0u64;
    let patient_count = patients.len();
    let stride = (patient_count / providers.len().max(1)).max(1);
    for slot in 0..24u32 {
        let minute = if slot < 12 {
            8 * 60 + slot * 20
        } else {
            13 * 60 + (slot - 12) * 20
        };
        let local = day
            .and_hms_opt(minute / 60, minute % 60, 0)
            .expect("valid time");
        let Some(start) = zone.from_local_datetime(&local).earliest() else {
            continue;
        };
        let start = start.with_timezone(&Utc);
        let end = start + Duration::minutes(20);
        let base = generator.rng.gen_range(0..patient_count);
        for (index, provider) in providers.iter().enumerate() {
            if count >= remaining {
                return Ok(count);
            }
            if generator.rng.gen_range(0..10) == 0 {
                continue; // an empty slot now and then
            }
            let patient = &patients[(base + index * stride) % patient_count];
            let status = if day < today {
                [
                    "completed",
                    "completed",
                    "completed",
                    "completed",
                    "completed",
                    "completed",
                    "no_show",
                    "cancelled",
                ][generator.rng.gen_range(0..8)]
            } else {
                "booked"
            };
            let id = generator.id(at);
            insert
                .execute(params![
                    id,
                    stamp,
                    user_id,
                    clinic_id,
                    patient,
                    provider,
                    format_timestamp(start),
                    format_timestamp(end),
                    status,
                    ["Check-up", "Follow-up", "Cough", "Back pain", "Vaccination"]
                        [generator.rng.gen_range(0..5)]
                ])
                .map_err(|error| Error::unexpected(format!("adding an appointment: {error}")))?;
            count += 1;
            generator.summary.appointments += 1;
            generator.summary.rows += 1;
        }
    }
    Ok(count)
}

fn insert_vitals(
    tx: &Connection,
    generator: &mut Generator,
    recorder: &str,
    patients: &[String],
    target: u64,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut set = tx
        .prepare_cached(
            "INSERT INTO vitals_sets (id, created_at, created_by, updated_at, updated_by, patient_id, recorded_by, effective_at)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?3, ?5)",
        )
        .map_err(sql_error("preparing vitals"))?;
    let mut observation = tx
        .prepare_cached(
            "INSERT INTO vital_observations (id, created_at, created_by, updated_at, updated_by, vitals_set_id, patient_id, effective_at, loinc_code, value, unit, interpretation)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .map_err(sql_error("preparing observations"))?;
    let created = format_timestamp(now);
    let sets_wanted = target.div_ceil(6);
    let per_patient = (sets_wanted as f64 / patients.len().max(1) as f64).max(0.0);
    let mut written = 0u64;
    let mut sets_in_chunk = 0u64;
    for (index, patient) in patients.iter().enumerate() {
        // Spread the sets evenly: this patient gets what keeps the running total on target.
        let due = (((index + 1) as f64 * per_patient).round() as u64).saturating_sub(sets_in_chunk);
        let mut times: Vec<DateTime<Utc>> = (0..due)
            .map(|_| now - Duration::minutes(generator.rng.gen_range(60..(5 * 365 * 24 * 60))))
            .collect();
        times.sort();
        for when in times {
            if written >= target {
                break;
            }
            let rng = &mut generator.rng;
            let stamp = format_timestamp(when);
            let systolic = rng.gen_range(95.0..175.0f64).round();
            let weight = (rng.gen_range(45.0..120.0f64) * 10.0).round() / 10.0;
            let height = (rng.gen_range(150.0..195.0f64) * 10.0).round() / 10.0;
            let values = [
                (VitalKind::Systolic, systolic),
                (
                    VitalKind::Diastolic,
                    (systolic * rng.gen_range(0.55..0.7)).round(),
                ),
                (VitalKind::HeartRate, rng.gen_range(52.0..110.0f64).round()),
                (
                    VitalKind::Temperature,
                    (rng.gen_range(36.0..38.6f64) * 10.0).round() / 10.0,
                ),
                (VitalKind::Weight, weight),
                (VitalKind::Bmi, body_mass_index(weight, height)),
            ];
            let set_id = generator.id(now);
            set.execute(params![set_id, created, recorder, patient, stamp])
                .map_err(sql_error("adding a vitals set"))?;
            generator.summary.vitals_sets += 1;
            sets_in_chunk += 1;
            generator.summary.rows += 1;
            for (kind, value) in values {
                if written >= target {
                    break;
                }
                let definition = kind.definition();
                let id = generator.id(now);
                observation
                    .execute(params![
                        id,
                        created,
                        recorder,
                        set_id,
                        patient,
                        stamp,
                        definition.loinc,
                        value,
                        definition.unit,
                        interpret(kind, value).map(|i| i.code())
                    ])
                    .map_err(sql_error("adding an observation"))?;
                written += 1;
                generator.summary.observations += 1;
                generator.summary.rows += 1;
            }
        }
    }
    Ok(written)
}

fn insert_notes(
    tx: &Connection,
    generator: &mut Generator,
    author: &str,
    patients: &[String],
    count: u64,
    now: DateTime<Utc>,
) -> Result<u64> {
    let mut note = tx
        .prepare_cached(
            "INSERT INTO notes (id, created_at, created_by, updated_at, updated_by, patient_id, author_id, kind, body, written_at)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?3, ?5, ?6, ?7)",
        )
        .map_err(sql_error("preparing notes"))?;
    let created = format_timestamp(now);
    let per_patient = count as f64 / patients.len().max(1) as f64;
    let mut written = 0u64;
    for (index, patient) in patients.iter().enumerate() {
        let due = (((index + 1) as f64 * per_patient).round() as u64).saturating_sub(written);
        let mut times: Vec<DateTime<Utc>> = (0..due)
            .map(|_| now - Duration::minutes(generator.rng.gen_range(60..(5 * 365 * 24 * 60))))
            .collect();
        times.sort();
        for when in times {
            let rng = &mut generator.rng;
            let body = format!(
                "{} {}",
                NOTE_PHRASES[rng.gen_range(0..NOTE_PHRASES.len())],
                NOTE_PHRASES[rng.gen_range(0..NOTE_PHRASES.len())]
            );
            let kind = if rng.gen_bool(0.7) {
                "clinical"
            } else {
                "nursing"
            };
            let id = generator.id(now);
            note.execute(params![
                id,
                created,
                author,
                patient,
                kind,
                body,
                format_timestamp(when)
            ])
            .map_err(sql_error("adding a note"))?;
            written += 1;
            generator.summary.notes += 1;
            generator.summary.rows += 1;
        }
    }
    Ok(written)
}

/// A demo allergy: substance, code, category, reaction, severity, criticality.
const DEMO_ALLERGIES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Penicillin",
        "RxNorm 70618",
        "medication",
        "Hives",
        "moderate",
        "high",
    ),
    (
        "Amoxicillin",
        "RxNorm 723",
        "medication",
        "Rash",
        "mild",
        "low",
    ),
    (
        "Sulfonamides",
        "",
        "medication",
        "Rash and itching",
        "moderate",
        "low",
    ),
    (
        "Codeine",
        "RxNorm 2670",
        "medication",
        "Nausea and vomiting",
        "mild",
        "low",
    ),
    (
        "Ibuprofen",
        "RxNorm 5640",
        "medication",
        "Wheezing",
        "moderate",
        "high",
    ),
    ("Peanuts", "", "food", "Anaphylaxis", "severe", "high"),
    (
        "Shellfish",
        "",
        "food",
        "Swelling of the lips",
        "moderate",
        "high",
    ),
    ("Eggs", "", "food", "Stomach cramps", "mild", "low"),
    (
        "Latex",
        "",
        "environment",
        "Contact dermatitis",
        "mild",
        "low",
    ),
    (
        "Bee stings",
        "",
        "environment",
        "Swelling, shortness of breath",
        "severe",
        "high",
    ),
    (
        "Grass pollen",
        "",
        "environment",
        "Sneezing, itchy eyes",
        "mild",
        "low",
    ),
];

/// A demo condition: the problem (description, ICD-10) and the medication that treats it
/// (name, dose, route, frequency).
const DEMO_CONDITIONS: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "Type 2 diabetes mellitus",
        "E11.9",
        "Metformin",
        "500 mg",
        "by mouth",
        "twice a day",
    ),
    (
        "Essential hypertension",
        "I10",
        "Lisinopril",
        "10 mg",
        "by mouth",
        "once a day",
    ),
    (
        "Hyperlipidaemia",
        "E78.5",
        "Atorvastatin",
        "20 mg",
        "by mouth",
        "at night",
    ),
    (
        "Hypothyroidism",
        "E03.9",
        "Levothyroxine",
        "50 micrograms",
        "by mouth",
        "every morning",
    ),
    (
        "Asthma",
        "J45.9",
        "Salbutamol inhaler",
        "100 micrograms",
        "inhaled",
        "as needed",
    ),
    (
        "Gastro-oesophageal reflux",
        "K21.9",
        "Omeprazole",
        "20 mg",
        "by mouth",
        "once a day",
    ),
    (
        "Depression",
        "F32.9",
        "Sertraline",
        "50 mg",
        "by mouth",
        "once a day",
    ),
    (
        "Atrial fibrillation",
        "I48.9",
        "Apixaban",
        "5 mg",
        "by mouth",
        "twice a day",
    ),
];

/// Allergies, medications and problems, patient by patient: about one in five never asked about
/// allergies, half confirmed "no known allergies", the rest with one or two (some inactive); about
/// two in five with one to three conditions, each a problem and the medication for it (some
/// stopped or resolved), half of those lists reviewed by the clinician.
fn insert_safety_facts(
    tx: &Connection,
    generator: &mut Generator,
    nurse: &str,
    clinician: &str,
    patients: &[String],
    now: DateTime<Utc>,
) -> Result<()> {
    let created = format_timestamp(now);
    let today = now.date_naive();
    let mut born = tx
        .prepare_cached("SELECT date_of_birth FROM patients WHERE id = ?1")
        .map_err(sql_error("reading birth dates"))?;
    let mut allergy = tx
        .prepare_cached(
            "INSERT INTO allergies (id, created_at, created_by, updated_at, updated_by, patient_id, substance,
                 substance_code, category, reaction, severity, criticality, onset, status)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(sql_error("preparing allergies"))?;
    let mut confirmation = tx
        .prepare_cached(
            "INSERT INTO allergy_confirmations (id, created_at, created_by, updated_at, updated_by, patient_id, status)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, 'current')",
        )
        .map_err(sql_error("preparing allergy confirmations"))?;
    let mut problem = tx
        .prepare_cached(
            "INSERT INTO problems (id, created_at, created_by, updated_at, updated_by, patient_id, description,
                 icd10_code, onset, resolved_on, status)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .map_err(sql_error("preparing problems"))?;
    let mut medication = tx
        .prepare_cached(
            "INSERT INTO medications (id, created_at, created_by, updated_at, updated_by, patient_id, name, dose,
                 route, frequency, started_on, stopped_on, reason, status)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )
        .map_err(sql_error("preparing medications"))?;
    let mut review = tx
        .prepare_cached(
            "INSERT INTO medication_reviews (id, created_at, created_by, updated_at, updated_by, patient_id)
             VALUES (?1, ?2, ?3, ?2, ?3, ?4)",
        )
        .map_err(sql_error("preparing medication reviews"))?;
    for patient in patients {
        let birth: String = born
            .query_row([patient], |row| row.get(0))
            .map_err(sql_error("reading a birth date"))?;
        let birth = NaiveDate::parse_from_str(&birth, "%Y-%m-%d").unwrap_or(today);
        let lived = (today - birth).num_days().max(1);
        let rng = &mut generator.rng;
        let some_day = |rng: &mut ChaCha8Rng| {
            (birth + Duration::days(rng.gen_range(0..lived)))
                .format("%Y-%m-%d")
                .to_string()
        };
        let asked: f64 = rng.gen();
        if (0.2..0.7).contains(&asked) {
            let id = generator.id(now);
            confirmation
                .execute(params![id, created, nurse, patient])
                .map_err(sql_error("adding an allergy confirmation"))?;
            generator.summary.rows += 1;
        } else if asked >= 0.7 {
            let rng = &mut generator.rng;
            let how_many = if rng.gen_bool(0.7) { 1 } else { 2 };
            let first = rng.gen_range(0..DEMO_ALLERGIES.len());
            for n in 0..how_many {
                let rng = &mut generator.rng;
                let (substance, code, category, reaction, severity, criticality) =
                    DEMO_ALLERGIES[(first + n * 5) % DEMO_ALLERGIES.len()];
                let onset = rng.gen_bool(0.6).then(|| some_day(rng));
                let status = if n == 1 && rng.gen_bool(0.3) {
                    "inactive"
                } else {
                    "active"
                };
                let code = (!code.is_empty()).then_some(code);
                let id = generator.id(now);
                allergy
                    .execute(params![
                        id,
                        created,
                        nurse,
                        patient,
                        substance,
                        code,
                        category,
                        reaction,
                        severity,
                        criticality,
                        onset,
                        status
                    ])
                    .map_err(sql_error("adding an allergy"))?;
                generator.summary.allergies += 1;
                generator.summary.rows += 1;
            }
        }
        let rng = &mut generator.rng;
        if rng.gen_bool(0.4) {
            let how_many = rng.gen_range(1..=3usize);
            let first = rng.gen_range(0..DEMO_CONDITIONS.len());
            for n in 0..how_many {
                let rng = &mut generator.rng;
                let (description, icd10, name, dose, route, frequency) =
                    DEMO_CONDITIONS[(first + n * 3) % DEMO_CONDITIONS.len()];
                let onset = some_day(rng);
                let ended = rng.gen_bool(0.15);
                let end = ended.then(|| {
                    let onset_day = NaiveDate::parse_from_str(&onset, "%Y-%m-%d").unwrap_or(today);
                    let span = (today - onset_day).num_days().max(1);
                    (onset_day + Duration::days(rng.gen_range(0..span)))
                        .format("%Y-%m-%d")
                        .to_string()
                });
                let problem_id = generator.id(now);
                problem
                    .execute(params![
                        problem_id,
                        created,
                        clinician,
                        patient,
                        description,
                        icd10,
                        onset,
                        end,
                        if ended { "resolved" } else { "active" }
                    ])
                    .map_err(sql_error("adding a problem"))?;
                let medication_id = generator.id(now);
                medication
                    .execute(params![
                        medication_id,
                        created,
                        clinician,
                        patient,
                        name,
                        dose,
                        route,
                        frequency,
                        onset,
                        end,
                        description,
                        if ended { "stopped" } else { "active" }
                    ])
                    .map_err(sql_error("adding a medication"))?;
                generator.summary.problems += 1;
                generator.summary.medications += 1;
                generator.summary.rows += 2;
            }
            if generator.rng.gen_bool(0.5) {
                let id = generator.id(now);
                review
                    .execute(params![id, created, clinician, patient])
                    .map_err(sql_error("adding a medication review"))?;
                generator.summary.rows += 1;
            }
        }
    }
    Ok(())
}

/// A demo user and the one-time password to give them.
#[cfg_attr(feature = "typescript", derive(ts_rs::TS))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoStaffMember {
    pub username: String,
    pub role: Role,
    pub temporary_password: String,
}

/// The demo clinic's staff: who they are and what role they play.
pub const DEMO_STAFF: [(&str, Role, &str); 4] = [
    ("demo.frontdesk", Role::FrontDesk, "Fran Desk"),
    ("demo.nurse", Role::Nurse, "Nora Nurse"),
    ("demo.doctor", Role::Clinician, "Dr. Clara Clinician"),
    ("demo.manager", Role::Manager, "Max Manager"),
];

impl Session {
    /// Adds the demo staff (administrators only) and returns their one-time passwords; then
    /// [`Session::generate_demo_data`] records vitals as the demo nurse and notes as the doctor.
    pub fn add_demo_staff(&mut self) -> Result<Vec<DemoStaffMember>> {
        let mut staff = Vec::new();
        for (username, role, name) in DEMO_STAFF {
            let password = self.add_user(username, name, role)?;
            staff.push(DemoStaffMember {
                username: username.to_owned(),
                role,
                temporary_password: password.0.to_string(),
            });
        }
        Ok(staff)
    }
}
