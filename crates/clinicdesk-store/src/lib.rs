//! The encrypted store: a SQLCipher database opened under the raw data key, and its migrations.
//!
//! This crate knows SQL and files, not users or permissions. Everything above it goes through
//! `clinicdesk-core`, which is the only door to patient data.

mod errors;
mod migrate;

pub use errors::{classify, sql_error};
pub use migrate::{
    applied_schema_version, migrate, Migration, MigrationOutcome, EMBEDDED_MIGRATIONS,
};
pub use rusqlite;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clinicdesk_error::{Error, ErrorCode, Result};
use clinicdesk_keyslot::DataKey;
use rusqlite::{Connection, OpenFlags};

/// The files of one workstation's data folder.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLCipher store.
    pub fn store_file(&self) -> PathBuf {
        self.root.join("clinicdesk.db")
    }

    /// The key slots beside the store.
    pub fn key_slot_file(&self) -> PathBuf {
        self.root.join("keyslots.json")
    }

    /// What the workstation keeps outside its store to ask the central server about a first
    /// sign-in (the server, its certificate, and a role that can do nothing else).
    pub fn server_sign_in_file(&self) -> PathBuf {
        self.root.join("server-sign-in.json")
    }

    /// Held shared by every open session, exclusively by key rotation and restore.
    pub fn store_lock_file(&self) -> PathBuf {
        self.root.join("clinicdesk.lock")
    }

    /// The mark left when the store was found damaged (when, and what): no patient data.
    pub fn damage_mark_file(&self) -> PathBuf {
        self.root.join("store-damaged.json")
    }

    /// Encrypted copies taken before a migration changes the store.
    pub fn pre_migration_folder(&self) -> PathBuf {
        self.root.join("pre-migration")
    }

    /// Every file the store consists of (the database and its WAL and shared-memory files).
    pub fn store_files(&self) -> [PathBuf; 3] {
        let store = self.store_file();
        [
            store.clone(),
            PathBuf::from(format!("{}-wal", store.display())),
            PathBuf::from(format!("{}-shm", store.display())),
        ]
    }
}

/// Opens an existing store under `key` and applies the connection settings.
///
/// A wrong key is an integrity failure: the key came from a key slot, so a mismatch means the
/// store and the key-slot file do not belong together or one of them is damaged.
pub fn open_store(path: &Path, key: &DataKey) -> Result<Connection> {
    if !path.exists() {
        return Err(Error::new(
            ErrorCode::StoreNotInitialized,
            format!("there is no store at {}", path.display()),
        ));
    }
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI,
    )
    .map_err(|error| Error::unexpected(format!("opening {}: {error}", path.display())))?;
    key_connection(&connection, key)?;
    configure(&connection)?;
    Ok(connection)
}

/// Creates a new, empty store under `key`. Refuses to touch an existing file.
pub fn create_store(path: &Path, key: &DataKey) -> Result<Connection> {
    if path.exists() {
        return Err(Error::new(
            ErrorCode::StoreAlreadyInitialized,
            format!("a store already exists at {}", path.display()),
        ));
    }
    let connection = Connection::open(path)
        .map_err(|error| Error::unexpected(format!("creating {}: {error}", path.display())))?;
    key_connection(&connection, key)?;
    configure(&connection)?;
    Ok(connection)
}

/// SQLCipher's codec set-up touches process-wide state without a lock (sqlcipher/sqlcipher
/// issue 598); under parallel tests a `PRAGMA key` on one thread occasionally failed while
/// another thread keyed its connection. Keying is rare and fast, so it is serialised.
static KEYING: std::sync::Mutex<()> = std::sync::Mutex::new(());

extern "C" {
    /// SQLCipher's own set-up, which SQLite runs at the end of `sqlite3_initialize`
    /// (`SQLITE_EXTRA_INIT`). It takes SQLite's master mutex and returns at once when the set-up
    /// is complete, so calling it waits for a set-up another thread has under way.
    fn sqlcipher_extra_init(argument: *const std::os::raw::c_char) -> std::os::raw::c_int;
}

/// Waits until SQLCipher is set up in this process. SQLite marks itself initialised before it
/// runs SQLCipher's set-up, and rusqlite (0.41) initialises SQLite from whichever thread opens a
/// connection first, without a lock: a thread keying a connection while another thread's first
/// open is still setting SQLCipher up failed with "sqlcipher not initialized" (PRAGMA key
/// refused). That happened at the start of parallel test runs.
fn wait_for_sqlcipher() -> rusqlite::Result<()> {
    // SAFETY: the function takes no pointer it dereferences (its argument is unused, as SQLite
    // passes it) and is safe to call from any thread at any time after SQLite is usable.
    let code = unsafe { sqlcipher_extra_init(std::ptr::null()) };
    if code == rusqlite::ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            Some("SQLCipher could not be set up".into()),
        ))
    }
}

fn apply_key(connection: &Connection, literal: &str) -> rusqlite::Result<()> {
    let _one_at_a_time = KEYING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    wait_for_sqlcipher()?;
    // SQLCipher logs every page that fails its authentication to standard error; Clinicdesk
    // reports a damaged store itself, once and with the way out, so its log stays quiet.
    connection
        .query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .ok();
    connection.pragma_update(None, "key", literal)
}

/// Applies the raw key and proves it opens the file.
fn key_connection(connection: &Connection, key: &DataKey) -> Result<()> {
    let literal = key.sqlcipher_literal();
    apply_key(connection, literal.as_str())
        .map_err(|error| Error::unexpected(format!("setting the store key: {error}")))?;
    connection
        .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0))
        .map_err(|_| {
            Error::store_damaged(
                "its first page does not open with the key from this workstation's key slots: the store file is damaged, or it was replaced by another clinic's",
            )
        })?;
    Ok(())
}

fn configure(connection: &Connection) -> Result<()> {
    let run = || -> rusqlite::Result<()> {
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        // Every page read from disk is decrypted and authenticated; a 64 MiB page cache keeps the
        // working set decrypted in memory (SQLCipher's own performance advice).
        connection.pragma_update(None, "cache_size", -65_536)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // A write (an import above all) runs more distinct statements than rusqlite's default 16:
        // past that, each is parsed again every time.
        connection.set_prepared_statement_cache_capacity(64);
        let mode: String =
            connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if mode != "wal" {
            return Err(rusqlite::Error::InvalidQuery);
        }
        connection.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    };
    run().map_err(|error| Error::unexpected(format!("configuring the store: {error}")))
}

/// Writes a consistent, encrypted copy of the open store to `destination` (which must not
/// exist) under `key`, with SQLite's online backup, so the copy is usable while others write.
pub fn copy_store_encrypted(source: &Connection, destination: &Path, key: &DataKey) -> Result<()> {
    if destination.exists() {
        return Err(Error::unexpected(format!(
            "{} already exists",
            destination.display()
        )));
    }
    let mut target = Connection::open(destination).map_err(|error| {
        Error::unexpected(format!("creating {}: {error}", destination.display()))
    })?;
    key_connection(&target, key)?;
    {
        let backup = rusqlite::backup::Backup::new(source, &mut target)
            .map_err(|error| Error::unexpected(format!("starting the copy: {error}")))?;
        backup
            .run_to_completion(256, Duration::from_millis(0), None)
            .map_err(|error| Error::unexpected(format!("copying the store: {error}")))?;
    }
    drop(target);
    File::open(destination)?.sync_all()?;
    Ok(())
}

/// Exports the open store into a new file `destination` under a different key (key rotation).
pub fn export_store_under_key(
    source: &Connection,
    destination: &Path,
    key: &DataKey,
) -> Result<()> {
    if destination.exists() {
        std::fs::remove_file(destination)?;
    }
    let path = destination
        .to_str()
        .ok_or_else(|| Error::unexpected("the data folder path is not valid UTF-8"))?;
    let literal = key.sqlcipher_literal();
    let run = || -> rusqlite::Result<()> {
        source.execute(
            "ATTACH DATABASE ?1 AS rekeyed KEY ?2",
            [path, literal.as_str()],
        )?;
        let exported = source.query_row("SELECT sqlcipher_export('rekeyed')", [], |_| Ok(()));
        let detached = source.execute("DETACH DATABASE rekeyed", []);
        exported?;
        detached?;
        Ok(())
    };
    run().map_err(|error| {
        Error::unexpected(format!("writing the store under the new key: {error}"))
    })?;
    File::open(destination)?.sync_all()?;
    Ok(())
}

/// The same checks as [`integrity_problems`] on a store file, run on two connections at once
/// (SQLite's structural check on one; SQLCipher's page HMACs and the foreign keys on the other): a restore waits for them, and the machine has more than one core.
pub fn integrity_problems_of_file(path: &Path, key: &DataKey) -> Result<Vec<String>> {
    let structural = open_store(path, key)?;
    let cipher_and_keys = open_store(path, key)?;
    let (first, second) = std::thread::scope(|scope| {
        let structural = scope.spawn(move || checks(&structural, &[Check::Structure]));
        let rest = checks(&cipher_and_keys, &[Check::CipherPages, Check::ForeignKeys]);
        (
            structural
                .join()
                .unwrap_or_else(|_| Err(Error::unexpected("the integrity check stopped"))),
            rest,
        )
    });
    let mut problems = first?;
    problems.extend(second?);
    Ok(problems)
}

#[derive(Clone, Copy)]
enum Check {
    Structure,
    CipherPages,
    ForeignKeys,
}

/// Runs SQLite's and SQLCipher's own checks; returns the problems found (empty when healthy).
pub fn integrity_problems(connection: &Connection) -> Result<Vec<String>> {
    checks(
        connection,
        &[Check::Structure, Check::CipherPages, Check::ForeignKeys],
    )
}

fn checks(connection: &Connection, which: &[Check]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for check in which {
        problems.extend(check.problems(connection)?);
    }
    Ok(problems)
}

impl Check {
    fn problems(self, connection: &Connection) -> Result<Vec<String>> {
        let (found, name) = match self {
            Check::Structure => (
                pragma_messages(connection, "PRAGMA integrity_check"),
                "integrity check",
            ),
            Check::CipherPages => (
                pragma_messages(connection, "PRAGMA cipher_integrity_check"),
                "page authentication check",
            ),
            Check::ForeignKeys => (foreign_key_problems(connection), "foreign-key check"),
        };
        found.map_err(|error| Error::integrity(format!("the {name} could not run: {error}")))
    }
}

/// Has a page read on `connection` failed SQLCipher's authentication? SQLCipher hands such a
/// page on zeroed, without an error, to readers that do not interpret it (the page reader of a
/// backup), and marks the connection read-only from then on; that mark is what this reads.
pub fn met_a_damaged_page(connection: &Connection) -> Result<bool> {
    connection
        .is_readonly(rusqlite::MAIN_DB)
        .map_err(sql_error("reading the store's state"))
}

/// Reads, on a connection of its own, the first page and the first page of every table and
/// index (the pages every record is reached from) and refuses the store if one fails its
/// authentication: a quick look for damage at every sign-in, far cheaper than the full check.
/// (A connection that met a damaged page refuses to write, so the probe uses its own.)
pub fn probe_root_pages(path: &Path, key: &DataKey) -> Result<()> {
    let connection = open_store(path, key)?;
    let roots = query_all(
        &connection,
        "SELECT rootpage, name FROM sqlite_master WHERE rootpage > 0 UNION ALL SELECT 1, 'the first page' ORDER BY 1",
        [],
        "listing the store's tables",
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
    )?;
    let mut statement = connection
        .prepare_cached("SELECT length(data) FROM sqlite_dbpage WHERE pgno = ?1")
        .map_err(sql_error("reading the store's pages"))?;
    for (page, name) in roots {
        statement
            .query_row([page], |row| row.get::<_, Option<i64>>(0))
            .map_err(sql_error("reading the store's pages"))?;
        if met_a_damaged_page(&connection)? {
            return Err(Error::store_damaged(format!(
                "page {page} ({name}) fails its authentication"
            )));
        }
    }
    Ok(())
}

/// The messages a checking pragma returns, except its "ok".
fn pragma_messages(connection: &Connection, sql: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare(sql)?;
    let mut rows = statement.query([])?;
    let mut messages = Vec::new();
    while let Some(row) = rows.next()? {
        let text = match row.get_ref(0)? {
            rusqlite::types::ValueRef::Text(text) => String::from_utf8_lossy(text).into_owned(),
            other => format!("{other:?}"),
        };
        if text != "ok" {
            messages.push(text);
        }
    }
    Ok(messages)
}

fn foreign_key_problems(connection: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = connection.prepare("PRAGMA foreign_key_check")?;
    let mut rows = statement.query([])?;
    let mut problems = Vec::new();
    while let Some(row) = rows.next()? {
        let table: String = row.get(0)?;
        let rowid: Option<i64> = row.get(1)?;
        let parent: String = row.get(2)?;
        problems.push(format!(
            "{table} row {rowid:?} points at a missing {parent} row"
        ));
    }
    Ok(problems)
}

/// Runs `sql` with `params` and reads every row with `read`; an error names what was being done.
pub fn query_all<T, P: rusqlite::Params>(
    connection: &Connection,
    sql: &str,
    params: P,
    doing: &str,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut statement = connection.prepare_cached(sql).map_err(sql_error(doing))?;
    let rows = statement
        .query_map(params, read)
        .map_err(sql_error(doing))?;
    rows.collect::<rusqlite::Result<Vec<T>>>()
        .map_err(sql_error(doing))
}

/// The page size (SQLCipher answers `PRAGMA page_size` as text, plain SQLite as a number).
pub fn page_size(connection: &Connection) -> rusqlite::Result<u32> {
    connection.query_row("PRAGMA page_size", [], |row| match row.get_ref(0)? {
        rusqlite::types::ValueRef::Integer(size) => Ok(size as u32),
        other => other.as_str()?.parse().map_err(|_| {
            rusqlite::Error::InvalidColumnType(0, "page_size".into(), other.data_type())
        }),
    })
}

/// Reads every page of the store, decrypted, in page order, inside the caller's open read
/// transaction (so the pages are one consistent snapshot while others keep writing). Uses
/// SQLite's `sqlite_dbpage` table; memory holds one page at a time.
pub fn read_pages(
    connection: &Connection,
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> Result<u64> {
    let mut statement = connection
        .prepare("SELECT data FROM sqlite_dbpage ORDER BY pgno")
        .map_err(sql_error("reading the store's pages"))?;
    let mut rows = statement
        .query([])
        .map_err(sql_error("reading the store's pages"))?;
    let mut count = 0;
    while let Some(row) = rows
        .next()
        .map_err(sql_error("reading the store's pages"))?
    {
        let page = row
            .get_ref(0)
            .and_then(|value| value.as_blob().map_err(Into::into))
            .map_err(sql_error("reading the store's pages"))?;
        each(page)?;
        count += 1;
    }
    Ok(count)
}

/// SQLite's `PENDING_BYTE`: the byte at 1 GiB is used for file locking, so the page that holds it
/// never holds data.
const LOCK_BYTE_OFFSET: usize = 0x4000_0000;

/// Builds a new store file from pages (a restored snapshot), encrypted under `key` as the pages
/// are written: nothing unencrypted reaches the disk. Call [`PageSink::finish`] to commit.
pub struct PageSink {
    connection: Connection,
    path: PathBuf,
    page_size: usize,
    next_page: i64,
}

impl PageSink {
    /// Starts a new file at `path` (refused if it exists) for pages of `page_size` bytes.
    pub fn create(path: &Path, key: &DataKey, page_size: u32) -> Result<PageSink> {
        if path.exists() {
            return Err(Error::unexpected(format!(
                "{} already exists",
                path.display()
            )));
        }
        let connection = Connection::open(path)
            .map_err(|error| Error::unexpected(format!("creating {}: {error}", path.display())))?;
        let literal = key.sqlcipher_literal();
        let run = || -> rusqlite::Result<u32> {
            apply_key(&connection, literal.as_str())?;
            // No journal while the file is built: until `finish` it is not a store anyone uses,
            // and a crash leaves a file that is thrown away.
            connection.execute_batch(
                "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384;",
            )?;
            let size = self::page_size(&connection)?;
            connection.execute_batch("BEGIN")?;
            Ok(size)
        };
        let own_page_size = run()
            .map_err(|error| Error::unexpected(format!("preparing the restored store: {error}")))?;
        if own_page_size != page_size {
            return Err(Error::integrity(format!(
                "the snapshot has {page_size}-byte pages but this Clinicdesk writes {own_page_size}-byte pages"
            )));
        }
        Ok(PageSink {
            connection,
            path: path.to_owned(),
            page_size: page_size as usize,
            next_page: 1,
        })
    }

    /// Appends whole pages, in order.
    pub fn write(&mut self, pages: &[u8]) -> Result<()> {
        if !pages.len().is_multiple_of(self.page_size) {
            return Err(Error::unexpected(
                "a partial page reached the restored store",
            ));
        }
        let mut statement = self
            .connection
            .prepare_cached("INSERT INTO sqlite_dbpage (pgno, data) VALUES (?1, ?2)")
            .map_err(sql_error("writing the restored store"))?;
        // SQLite never uses the page holding the lock byte at 1 GiB (its `PENDING_BYTE`): reading
        // it through `sqlite_dbpage` gives zeros, and writing it is refused as corruption. Stores
        // past 1 GiB have one; it is left as a hole in the new file, as SQLite leaves it.
        let lock_byte_page = (LOCK_BYTE_OFFSET / self.page_size) as i64 + 1;
        for page in pages.chunks(self.page_size) {
            if self.next_page != lock_byte_page {
                statement
                    .execute(rusqlite::params![self.next_page, page])
                    .map_err(sql_error("writing the restored store"))?;
            }
            self.next_page += 1;
        }
        Ok(())
    }

    /// Commits and closes the file, and forces it to disk.
    pub fn finish(self) -> Result<()> {
        self.connection
            .execute_batch("COMMIT")
            .map_err(sql_error("finishing the restored store"))?;
        self.connection.close().map_err(|(_, error)| {
            Error::unexpected(format!("closing the restored store: {error}"))
        })?;
        File::open(&self.path)?.sync_all()?;
        Ok(())
    }
}
